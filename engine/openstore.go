package engine

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/store/sqlite"
)

// OpenStore opens the ledger the configuration names.
func OpenStore(ctx context.Context, cfg *config.Config, log *slog.Logger, now func() time.Time) (store.Store, error) {
	driver, loc, err := cfg.StoreDriver()
	if err != nil {
		return nil, err
	}
	switch driver {
	case "sqlite":
		st, err := sqlite.Open(ctx, loc, sqlite.Options{Now: now, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("opening the ledger %s: %w", loc, err)
		}
		return st, nil
	default:
		return nil, fmt.Errorf("store %s: the %s store is not available in this build; use sqlite:<path>", cfg.Store, driver)
	}
}
