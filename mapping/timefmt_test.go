package mapping

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestTimeFormat(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 3, 5, 7, 8, 9, 45e6, time.FixedZone("", -(4*3600+30*60)))
	tests := []struct {
		format, want string
	}{
		{"YYYY-MM-DD", "2024-03-05"},
		{"YY/M/D", "24/3/5"},
		{"DD.MM.YYYY HH:mm:ss", "05.03.2024 07:08:09"},
		{"MMMM D, YYYY h:mm A", "March 5, 2024 7:08 AM"},
		{"ddd, DD MMM YYYY hh:mm a", "Tue, 05 Mar 2024 07:08 am"},
		{"dddd", "Tuesday"},
		{"HH:mm:ss.SSS Z", "07:08:09.045 -04:30"},
		{"YYYY-MM-DD[T]HH:mm:ssZZ", "2024-03-05T07:08:09-0430"},
		{"[Week of] D MMM", "Week of 5 Mar"},
		{"m s", "8 9"},
	}
	for _, tt := range tests {
		tf, err := compileTimeFormat(tt.format)
		if err != nil {
			t.Errorf("compileTimeFormat(%q): %v", tt.format, err)
			continue
		}
		if got := at.Format(tf.layout); got != tt.want {
			t.Errorf("format %q: Go layout %q gives %q, want %q", tt.format, tf.layout, got, tt.want)
		}
		if got := tf.format(at); got != tt.want {
			t.Errorf("format %q: own formatter gives %q, want %q", tt.format, got, tt.want)
		}
	}
}

func TestTimeFormatErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		format, want string
	}{
		{"", "the format is empty"},
		{"YYY", `"YYY" is not a format token`},
		{"H:mm", `"H" is not a format token`},
		{"DDDD", `"DDDD" is not a format token`},
		{"YYYY [Q", "[ is never closed with ]"},
		{"YYYY-MM-DD [2nd]", "cannot be written exactly"},
		{"[Mon] YYYY", "cannot be written exactly"},
		{"Ms", "cannot be written exactly"},
		{"ssSSS", "cannot be written exactly"},
	}
	for _, tt := range tests {
		_, err := compileTimeFormat(tt.format)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("compileTimeFormat(%q) error = %v, want it to contain %q", tt.format, err, tt.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	utc := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	tests := []struct {
		in       any
		want     time.Time
		dateOnly bool
	}{
		{"2024-05-01T10:03:12Z", utc("2024-05-01T10:03:12Z"), false},
		{"2024-05-01T10:03:12.512+02:00", utc("2024-05-01T08:03:12.512Z"), false},
		{"2016-01-01T21:56:31.182613+00:00", utc("2016-01-01T21:56:31.182613Z"), false},
		{"2024-05-01 10:03:12+02:00", utc("2024-05-01T08:03:12Z"), false},
		{"2024-05-01T10:03:12+0200", utc("2024-05-01T08:03:12Z"), false},
		{"2024-05-01 10:03:12 -0700", utc("2024-05-01T17:03:12Z"), false},
		{"2024-05-01 10:03:12", utc("2024-05-01T08:03:12Z"), false},
		{"2024-05-01T10:03:12", utc("2024-05-01T08:03:12Z"), false},
		{"2024-05-01 10:03", utc("2024-05-01T08:03:00Z"), false},
		{"2024-05-01", utc("2024-04-30T22:00:00Z"), true},
		{" 2024-05-01 ", utc("2024-04-30T22:00:00Z"), true},
		{json.Number("1732186844"), utc("2024-11-21T11:00:44Z"), false},
		{json.Number("1732186844.5"), utc("2024-11-21T11:00:44.5Z"), false},
		{json.Number("1732186844123"), utc("2024-11-21T11:00:44.123Z"), false},
		{"1732186844", utc("2024-11-21T11:00:44Z"), false},
		{1732186844.0, utc("2024-11-21T11:00:44Z"), false},
		{utc("2020-01-01T00:00:00Z"), utc("2020-01-01T00:00:00Z"), false},
	}
	for _, tt := range tests {
		got, dateOnly, err := parseTime(tt.in, berlin, nil)
		if err != nil {
			t.Errorf("parseTime(%v): %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) || dateOnly != tt.dateOnly {
			t.Errorf("parseTime(%v) = %v, %v; want %v, %v", tt.in, got, dateOnly, tt.want, tt.dateOnly)
		}
	}
	for _, bad := range []any{"", "tomorrow", "2024-13-01", "01/05/2024", true, json.Number("1e30"), []any{}} {
		if _, _, err := parseTime(bad, time.UTC, nil); err == nil {
			t.Errorf("parseTime(%v) succeeded, want an error", bad)
		}
	}
}
