// Package all registers every connector; the binary imports it for its
// side effects.
package all

import (
	_ "github.com/surveysync/surveysync/connectors/file"     // register the file source
	_ "github.com/surveysync/surveysync/connectors/httppoll" // register the http_poll source
	_ "github.com/surveysync/surveysync/connectors/httpreq"  // register the http destination
	_ "github.com/surveysync/surveysync/connectors/hubspot"  // register the hubspot destination and its presets
	_ "github.com/surveysync/surveysync/connectors/sheets"   // register the google_sheets destination
	_ "github.com/surveysync/surveysync/connectors/webhook"  // register the webhook source
	_ "github.com/surveysync/surveysync/connectors/zendesk"  // register the zendesk destination and its presets
)
