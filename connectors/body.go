package connectors

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// EncodeJSON marshals a request body as sent: without HTML escaping, so
// that survey text such as "<3" reaches the API as written, and without a
// trailing newline.
func EncodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// NewJSONRequest builds a request to an API that speaks JSON: body, when
// not nil, encoded with EncodeJSON and labelled as JSON, and JSON asked for
// in return. A body that cannot be encoded is a render error; a request
// that cannot be built is permanent.
func NewJSONRequest(ctx context.Context, method, url string, body any) (*http.Request, error) {
	var payload []byte
	if body != nil {
		b, err := EncodeJSON(body)
		if err != nil {
			return nil, Render(fmt.Errorf("encoding the body: %w", err))
		}
		payload = b
	}
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(payload))
	if err != nil {
		return nil, Permanent(fmt.Errorf("building the request: %w", err))
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}
