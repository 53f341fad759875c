package mapping

import (
	"encoding/json"
	"testing"
)

func TestBodyPartShowsTheBodyAsWritten(t *testing.T) {
	t.Parallel()
	src := `request:
  method: PUT
  path: "/tickets/{{ ticket_id }}.json"
  body:
    ticket:
      custom_fields:
        - {id: 360001, value: "{{ score }}"}
        - {id: "{{ field }}", value: 1}
`
	m, err := Parse("m.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	body, ok := m.Body()
	if !ok || !body.IsObject() {
		t.Fatal("no body")
	}
	list := body.Get("ticket").Get("custom_fields")
	if !list.IsList() || len(list.Items()) != 2 || list.Where() != "body.ticket.custom_fields" {
		t.Fatalf("custom_fields: list %v, %d items, where %q", list.IsList(), len(list.Items()), list.Where())
	}
	first, second := list.Items()[0], list.Items()[1]
	if v, ok := first.Get("id").Const(); !ok || v != json.Number("360001") {
		t.Errorf("first id = %v, %v", v, ok)
	}
	if pos := first.Pos(); pos.Line != 7 || pos.Col != 31 {
		t.Errorf("first item at %s, want line 7 col 31 (its value's template)", pos)
	}
	if text, pos, ok := second.Get("id").Template(); !ok || text != "{{ field }}" || pos.Line != 8 {
		t.Errorf("second id = %q at %s, %v", text, pos, ok)
	}
	if _, ok := second.Get("id").Const(); ok {
		t.Error("a template reads as a constant")
	}
	if body.Get("nothing").Exists() || body.Get("ticket").Get("custom_fields").Get("x").Exists() {
		t.Error("a missing key exists")
	}
	if got := body.Get("ticket").Keys(); len(got) != 1 || got[0] != "custom_fields" {
		t.Errorf("keys = %q", got)
	}
	sheet, err := Parse("s.yaml", []byte("sheet: T\nkey: K\ncolumns:\n  K: \"{{ key }}\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sheet.Body(); ok {
		t.Error("a sheet mapping has a body")
	}
}
