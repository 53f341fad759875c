package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/store"
)

// scheduler runs the score jobs on their cron schedules, each in its own
// time zone. Jobs are wrapped in Recover and SkipIfStillRunning; every run
// is recorded in the ledger, and a run missed while the daemon was down is
// made once at start-up.
type scheduler struct {
	rt *runtime

	mu    sync.Mutex
	crons []*cron.Cron
	wg    sync.WaitGroup
}

func newScheduler(rt *runtime) *scheduler { return &scheduler{rt: rt} }

// cronLogger adapts slog to cron's logger.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}

// startCron starts a cron that calls run with each slot's time; it is the
// one place robfig/cron is used, so a fork could replace it.
func startCron(loc *time.Location, sched cron.Schedule, log *slog.Logger, run func(slot time.Time)) *cron.Cron {
	l := cronLogger{log: log}
	c := cron.New(cron.WithLocation(loc), cron.WithLogger(l), cron.WithChain(cron.Recover(l), cron.SkipIfStillRunning(l)))
	c.Schedule(sched, cron.FuncJob(func() {
		// Cron fires at the start of the slot; the slot is that minute.
		run(time.Now().In(loc).Truncate(time.Minute))
	}))
	c.Start()
	return c
}

func (s *scheduler) start(ctx context.Context) {
	for _, sp := range s.rt.plan.Scores {
		if sp.Schedule == nil {
			continue
		}
		log := s.rt.log.With("score_job", sp.Name)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.catchUp(ctx, sp, log)
		}()
		c := startCron(sp.Location, sp.Schedule, log, func(slot time.Time) {
			if ctx.Err() == nil {
				s.runJob(ctx, sp, slot, log)
			}
		})
		s.mu.Lock()
		s.crons = append(s.crons, c)
		s.mu.Unlock()
	}
}

// stop stops the schedules and waits for running jobs.
func (s *scheduler) stop() {
	s.mu.Lock()
	crons := s.crons
	s.crons = nil
	s.mu.Unlock()
	for _, c := range crons {
		<-c.Stop().Done()
	}
	s.wg.Wait()
}

// missedSlot returns the latest slot after last and at or before now, or the
// zero time when none was missed (or the job never ran).
func missedSlot(sched cron.Schedule, last, now time.Time) time.Time {
	if last.IsZero() {
		return time.Time{}
	}
	var missed time.Time
	for next, i := sched.Next(last), 0; !next.After(now) && i < 100000; next, i = sched.Next(next), i+1 {
		missed = next
	}
	return missed
}

// catchUp makes, once, the latest run missed while the daemon was down.
func (s *scheduler) catchUp(ctx context.Context, sp *ScorePlan, log *slog.Logger) {
	last, err := s.rt.st.LastScoreRun(ctx, sp.Name)
	if err != nil {
		log.Error("reading the last score run failed", "err", err)
		return
	}
	slot := missedSlot(sp.Schedule, last.ScheduledFor.In(sp.Location), s.rt.now().In(sp.Location))
	if slot.IsZero() {
		return
	}
	log.Info("making the score run missed while the daemon was down", "slot", slot)
	s.runJob(ctx, sp, slot, log)
}

// runJob computes, writes and records one run, retrying a failed write a
// few times; a run that still fails is logged and left for the next slot.
func (s *scheduler) runJob(ctx context.Context, sp *ScorePlan, slot time.Time, log *slog.Logger) {
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		if err = RunScoreJob(ctx, s.rt.st, s.destination(sp), sp, slot, s.rt.now); err == nil {
			log.Info("score job ran", "slot", slot)
			return
		}
		if ctx.Err() != nil {
			return
		}
		log.Warn("score job failed; retrying", "attempt", attempt, "err", err)
		sleep(ctx, connectors.Backoff(attempt, 2*time.Second, 30*time.Second, nil))
	}
	log.Error("score job failed; it runs again at its next slot", "slot", slot, "err", err)
}

func (s *scheduler) destination(sp *ScorePlan) connectors.Destination {
	if sp.Destination == nil {
		return nil
	}
	if dr, ok := s.rt.dests[sp.Destination.Name]; ok {
		return dr.dest
	}
	return nil
}

// RunScoreJob computes a job as of slot, writes it to its destination (when
// dest is not nil and the job has one) and records the run.
func RunScoreJob(ctx context.Context, st store.Store, dest connectors.Destination, sp *ScorePlan, slot time.Time, now func() time.Time) error {
	rep, err := ComputeScores(ctx, st, sp, slot)
	if err != nil {
		return err
	}
	if err := rep.NoRatings(sp); err != nil {
		return err
	}
	if dest != nil && (sp.Job.Sheet != "" || sp.Request != nil) {
		if err := WriteScores(ctx, dest, sp, rep); err != nil {
			return err
		}
	}
	raw, err := json.Marshal(rep.Rows)
	if err != nil {
		return fmt.Errorf("encoding the score rows: %w", err)
	}
	return st.RecordScoreRun(ctx, store.ScoreRun{Job: sp.Name, ScheduledFor: slot, RanAt: now(), Results: raw})
}

// RunScoreJob computes, writes and records the named job as of slot, as a
// scheduled run would; `surveysync scores --write` uses it.
func (e *Engine) RunScoreJob(ctx context.Context, job string, slot time.Time) error {
	rt := e.currentRuntime()
	sp := rt.plan.ScoreJob(job)
	if sp == nil {
		return fmt.Errorf("no score job %q", job)
	}
	return RunScoreJob(ctx, e.st, rt.scheduler.destination(sp), sp, slot, e.now)
}
