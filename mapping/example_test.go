package mapping_test

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/survey"
)

func Example_sheetRows() {
	src := `
sheet: Responses
key: Response ID
columns:
  Response ID: "{{ key }}"
  Submitted:   {value: "{{ submitted_at }}", type: datetime, timezone: Europe/Berlin, format: "YYYY-MM-DD HH:mm"}
  Email:       "{{ contact.email | lower }}"
  Rating:      {value: "{{ rating }}", type: number, map: {"😞": 1, "😐": 3, "😀": 5}}
  Channel:     WhatsApp
  Comment:     {value: "{{ comment }}", default: ""}
`
	m, err := mapping.Parse("mappings/csat.yaml", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	in := &mapping.Input{Response: &survey.Response{
		Source:      "respondio",
		Key:         "conv-1001",
		SubmittedAt: time.Date(2024, 5, 1, 10, 3, 12, 0, time.UTC),
		Payload:     json.RawMessage(`{"contact": {"email": "Jane@Example.com"}, "rating": "😀", "comment": "=1+1"}`),
	}}
	row, err := m.RenderRow(in)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("key:", row.Key)
	for _, c := range row.Cells {
		fmt.Printf("%s (%s): %s\n", c.Header, c.Value.Kind, c.Value)
	}

	// A response without the email is refused with the place to look at.
	in = &mapping.Input{Response: &survey.Response{Key: "conv-1002", SubmittedAt: time.Now(), Payload: json.RawMessage(`{"rating": "😐"}`)}}
	_, err = m.RenderRow(in)
	fmt.Println(err)
	// Output:
	// key: conv-1001
	// Response ID (text): conv-1001
	// Submitted (datetime): 2024-05-01 12:03
	// Email (text): jane@example.com
	// Rating (number): 5
	// Channel (text): WhatsApp
	// Comment (text): =1+1
	// mappings/csat.yaml:7:16: column "Email": field contact.email is missing from the response
}

func Example_request() {
	src := `
request:
  method: POST
  path: /crm/v3/objects/contacts/batch/upsert
  idempotency_key: "{{ delivery_key }}"
  body:
    id: "{{ contact.email | lower }}"
    idProperty: email
    properties:
      last_csat: "{{ rating }}"
      note: "CSAT {{ rating }}: {{ comment }}"
  batch:
    max: 100
    path: inputs
`
	m, err := mapping.Parse("mappings/csat-hubspot.yaml", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	var reqs []*mapping.Request
	for i, payload := range []string{
		`{"contact": {"email": "Jane@Example.com"}, "rating": 5, "comment": "She said \"wow\"\nthen left"}`,
		`{"contact": {"email": "sam@example.com"}, "rating": 2, "comment": "\"}, \"admin\": true"}`,
	} {
		in := &mapping.Input{
			Response:    &survey.Response{Source: "typeform", Key: fmt.Sprint("t-", i), Payload: json.RawMessage(payload)},
			DeliveryKey: fmt.Sprint("dk-", i),
		}
		req, err := m.RenderRequest(in)
		if err != nil {
			fmt.Println(err)
			return
		}
		reqs = append(reqs, req)
	}
	batch, err := m.RenderBatch(reqs)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(batch.Method, batch.Path)
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.Encode(batch.Body)
	// Output:
	// POST /crm/v3/objects/contacts/batch/upsert
	// {
	//   "inputs": [
	//     {
	//       "id": "jane@example.com",
	//       "idProperty": "email",
	//       "properties": {
	//         "last_csat": 5,
	//         "note": "CSAT 5: She said \"wow\"\nthen left"
	//       }
	//     },
	//     {
	//       "id": "sam@example.com",
	//       "idProperty": "email",
	//       "properties": {
	//         "last_csat": 2,
	//         "note": "CSAT 2: \"}, \"admin\": true"
	//       }
	//     }
	//   ]
	// }
}

func ExampleCompileFilter() {
	// A sync's filter in surveysync.yaml uses the mapping filter syntax.
	root, err := config.Parse("surveysync.yaml", []byte(`
filter:
  - {field: rating, lte: 2}
  - any:
      - {field: "{{ channel | lower }}", equals: whatsapp}
      - {field: tags, contains: vip}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := mapping.CompileFilter(root.Get("filter"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, payload := range []string{
		`{"rating": 1, "channel": "WhatsApp"}`,
		`{"rating": 2, "channel": "email", "tags": ["vip"]}`,
		`{"rating": 5, "channel": "WhatsApp"}`,
		`{"channel": "WhatsApp"}`,
	} {
		ok, err := f.Match(&mapping.Input{Response: &survey.Response{Payload: json.RawMessage(payload)}})
		fmt.Println(ok, err)
	}
	// Output:
	// true <nil>
	// true <nil>
	// false <nil>
	// false <nil>
}
