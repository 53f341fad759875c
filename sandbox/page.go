package sandbox

import (
	_ "embed"
	"html/template"
	"net/http"
)

//go:embed page.html
var pageHTML string

var pageTemplate = template.Must(template.New("page").Parse(pageHTML))

// page serves the sandbox's web page: every emulator's data as tables,
// refreshing itself every two seconds.
func (s *Sandbox) page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, "page")
	})
}

// tablesFragment serves only the tables, for the page's refresh.
func (s *Sandbox) tablesFragment(w http.ResponseWriter, r *http.Request) {
	s.render(w, "tables")
}

func (s *Sandbox) render(w http.ResponseWriter, name string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'")
	if err := pageTemplate.ExecuteTemplate(w, name, groups(s.Tables())); err != nil {
		http.Error(w, "rendering the page failed", http.StatusInternalServerError)
	}
}
