package connectors

import (
	"bytes"
	"encoding/json"
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
