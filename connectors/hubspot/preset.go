package hubspot

import (
	"strconv"
	"strings"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/mapping"
)

// PresetContactUpsert is the preset for contact upserts with an optional note.
const PresetContactUpsert = "hubspot.contact_upsert"

func init() {
	mapping.RegisterPreset(PresetContactUpsert, expandContactUpsert)
}

var contactUpsertKeys = []string{"id", "id_property", "properties", "note", "note_timestamp"}

// expandContactUpsert turns
//
//	preset: hubspot.contact_upsert
//	id: "{{ contact.email }}"
//	id_property: email            # the default
//	properties: {last_csat: "{{ rating }}"}
//	note: "CSAT {{ rating }}"     # optional
//	note_timestamp: "{{ submitted_at }}"   # optional, the default
//
// into the request mapping the destination recognises:
//
//	request:
//	  method: POST
//	  path: /crm/v3/objects/contacts/batch/upsert
//	  body: {id: ..., idProperty: email, properties: {...}, note: {body: ..., timestamp: ...}}
//	  batch: {max: 100, path: inputs}
//
// Every value keeps the node, and so the position, it was written at.
func expandContactUpsert(n *config.Node) (*config.Node, error) {
	var errs config.ErrorList
	mapping.CheckPresetKeys(n, PresetContactUpsert, contactUpsertKeys, &errs)
	body := &config.Node{Kind: config.MapNode, Pos: n.Pos}

	id := n.Get("id")
	switch {
	case id == nil:
		errs = append(errs, config.Errorf(config.Pos{}, `preset %s: missing key "id": the value that finds the contact, such as "{{ contact.email }}"`, PresetContactUpsert))
	case id.Kind != config.ScalarNode:
		errs = append(errs, config.Errorf(id.Pos, "id: expected one value such as \"{{ contact.email }}\", got %s", id.Kind))
	default:
		body.Pairs = append(body.Pairs, mapping.PresetPair("id", id))
	}

	idProp := mapping.PresetText("email", n.Pos)
	if p := n.Get("id_property"); p != nil {
		if p.Kind != config.ScalarNode || p.Type != config.StringScalar || p.Value == "" || strings.Contains(p.Value, "{{") {
			errs = append(errs, config.Errorf(p.Pos, "id_property: expected the name of a unique contact property, such as email or survey_response_id"))
		}
		idProp = p
	}
	body.Pairs = append(body.Pairs, mapping.PresetPair("idProperty", idProp))

	switch props := n.Get("properties"); {
	case props == nil:
		errs = append(errs, config.Errorf(config.Pos{}, `preset %s: missing key "properties": the contact properties to set, such as {last_csat: "{{ rating }}"}`, PresetContactUpsert))
	case props.Kind != config.MapNode || len(props.Pairs) == 0:
		errs = append(errs, config.Errorf(props.Pos, "properties: expected property names and values, such as {last_csat: \"{{ rating }}\"}"))
	default:
		for _, p := range props.Pairs {
			if p.Value.Kind == config.MapNode {
				errs = append(errs, config.Errorf(p.Value.Pos, "properties: %s: a HubSpot property takes one value (text, a number, true/false or a list), not an object", p.Key.Value))
			}
		}
		body.Pairs = append(body.Pairs, mapping.PresetPair("properties", props))
	}

	if note := n.Get("note"); note != nil {
		if note.Kind != config.ScalarNode {
			errs = append(errs, config.Errorf(note.Pos, "note: expected the note's text, such as \"CSAT {{ rating }}: {{ comment }}\", got %s", note.Kind))
		}
		spec := &config.Node{Kind: config.MapNode, Pos: note.Pos, Pairs: []config.Pair{mapping.PresetPair("body", note)}}
		if ts := n.Get("note_timestamp"); ts != nil {
			if ts.Kind != config.ScalarNode {
				errs = append(errs, config.Errorf(ts.Pos, "note_timestamp: expected a time such as \"{{ submitted_at }}\", got %s", ts.Kind))
			}
			spec.Pairs = append(spec.Pairs, mapping.PresetPair("timestamp", ts))
		}
		body.Pairs = append(body.Pairs, mapping.PresetPair("note", spec))
	} else if ts := n.Get("note_timestamp"); ts != nil {
		errs = append(errs, config.Errorf(ts.Pos, "note_timestamp: only applies with a note"))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	batch := &config.Node{Kind: config.MapNode, Pos: n.Pos, Pairs: []config.Pair{
		mapping.PresetPair("max", &config.Node{Kind: config.ScalarNode, Pos: n.Pos, Value: strconv.Itoa(MaxBatchInputs), Type: config.IntScalar}),
		mapping.PresetPair("path", mapping.PresetText("inputs", n.Pos)),
	}}
	request := &config.Node{Kind: config.MapNode, Pos: n.Pos, Pairs: []config.Pair{
		mapping.PresetPair("method", mapping.PresetText("POST", n.Pos)),
		mapping.PresetPair("path", mapping.PresetText(UpsertPath, n.Pos)),
		mapping.PresetPair("body", body),
		mapping.PresetPair("batch", batch),
	}}
	return &config.Node{Kind: config.MapNode, Pos: n.Pos, Pairs: []config.Pair{mapping.PresetPair("request", request)}}, nil
}
