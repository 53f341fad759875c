package sheetsapi

// JSON shapes of the API, named after the discovery doc's schemas. Output
// structs carry only fields the emulator fills; the conformance test checks
// every field against the discovery doc.

type spreadsheetJSON struct {
	SpreadsheetID  string               `json:"spreadsheetId"`
	Properties     spreadsheetPropsJSON `json:"properties"`
	Sheets         []sheetJSON          `json:"sheets,omitempty"`
	SpreadsheetURL string               `json:"spreadsheetUrl"`
}

type spreadsheetPropsJSON struct {
	Title      string `json:"title"`
	Locale     string `json:"locale"`
	AutoRecalc string `json:"autoRecalc"`
	TimeZone   string `json:"timeZone"`
}

type sheetJSON struct {
	Properties sheetPropsJSON `json:"properties"`
	Data       []gridDataJSON `json:"data,omitempty"`
}

type sheetPropsJSON struct {
	SheetID        int64         `json:"sheetId"`
	Title          string        `json:"title"`
	Index          int           `json:"index"`
	SheetType      string        `json:"sheetType"`
	GridProperties gridPropsJSON `json:"gridProperties"`
	Hidden         bool          `json:"hidden,omitempty"`
}

type gridPropsJSON struct {
	RowCount          int `json:"rowCount"`
	ColumnCount       int `json:"columnCount"`
	FrozenRowCount    int `json:"frozenRowCount,omitempty"`
	FrozenColumnCount int `json:"frozenColumnCount,omitempty"`
}

type gridDataJSON struct {
	StartRow    int           `json:"startRow,omitempty"`
	StartColumn int           `json:"startColumn,omitempty"`
	RowData     []rowDataJSON `json:"rowData,omitempty"`
}

type rowDataJSON struct {
	Values []cellDataJSON `json:"values,omitempty"`
}

type cellDataJSON struct {
	UserEnteredValue  *extendedValueJSON `json:"userEnteredValue,omitempty"`
	EffectiveValue    *extendedValueJSON `json:"effectiveValue,omitempty"`
	FormattedValue    string             `json:"formattedValue,omitempty"`
	UserEnteredFormat *cellFormatJSON    `json:"userEnteredFormat,omitempty"`
}

type cellFormatJSON struct {
	NumberFormat *numberFormatJSON `json:"numberFormat,omitempty"`
}

type numberFormatJSON struct {
	Type    string `json:"type"`
	Pattern string `json:"pattern,omitempty"`
}

type extendedValueJSON struct {
	NumberValue  *float64 `json:"numberValue,omitempty"`
	StringValue  *string  `json:"stringValue,omitempty"`
	BoolValue    *bool    `json:"boolValue,omitempty"`
	FormulaValue *string  `json:"formulaValue,omitempty"`
}

type batchUpdateSpreadsheetResponseJSON struct {
	SpreadsheetID      string           `json:"spreadsheetId"`
	Replies            []map[string]any `json:"replies,omitempty"`
	UpdatedSpreadsheet *spreadsheetJSON `json:"updatedSpreadsheet,omitempty"`
}

type addSheetResponseJSON struct {
	Properties sheetPropsJSON `json:"properties"`
}

type valueRangeJSON struct {
	Range          string  `json:"range,omitempty"`
	MajorDimension string  `json:"majorDimension,omitempty"`
	Values         [][]any `json:"values,omitempty"`
}

type updateValuesResponseJSON struct {
	SpreadsheetID  string          `json:"spreadsheetId"`
	UpdatedRange   string          `json:"updatedRange,omitempty"`
	UpdatedRows    int             `json:"updatedRows,omitempty"`
	UpdatedColumns int             `json:"updatedColumns,omitempty"`
	UpdatedCells   int             `json:"updatedCells,omitempty"`
	UpdatedData    *valueRangeJSON `json:"updatedData,omitempty"`
}

type appendValuesResponseJSON struct {
	SpreadsheetID string                    `json:"spreadsheetId"`
	TableRange    string                    `json:"tableRange,omitempty"`
	Updates       *updateValuesResponseJSON `json:"updates"`
}

type batchUpdateValuesResponseJSON struct {
	SpreadsheetID       string                     `json:"spreadsheetId"`
	TotalUpdatedRows    int                        `json:"totalUpdatedRows,omitempty"`
	TotalUpdatedColumns int                        `json:"totalUpdatedColumns,omitempty"`
	TotalUpdatedCells   int                        `json:"totalUpdatedCells,omitempty"`
	TotalUpdatedSheets  int                        `json:"totalUpdatedSheets,omitempty"`
	Responses           []updateValuesResponseJSON `json:"responses,omitempty"`
}

type batchGetValuesResponseJSON struct {
	SpreadsheetID string           `json:"spreadsheetId"`
	ValueRanges   []valueRangeJSON `json:"valueRanges,omitempty"`
}

type clearValuesResponseJSON struct {
	SpreadsheetID string `json:"spreadsheetId"`
	ClearedRange  string `json:"clearedRange"`
}

type batchClearValuesResponseJSON struct {
	SpreadsheetID string   `json:"spreadsheetId"`
	ClearedRanges []string `json:"clearedRanges,omitempty"`
}

// Request bodies. Pointer fields tell "absent" from zero.

type spreadsheetIn struct {
	Properties *struct {
		Title    string `json:"title"`
		Locale   string `json:"locale"`
		TimeZone string `json:"timeZone"`
	} `json:"properties"`
	Sheets []struct {
		Properties sheetPropsIn `json:"properties"`
	} `json:"sheets"`
}

type sheetPropsIn struct {
	SheetID        *int64       `json:"sheetId"`
	Title          *string      `json:"title"`
	Index          *int         `json:"index"`
	Hidden         *bool        `json:"hidden"`
	SheetType      string       `json:"sheetType"`
	GridProperties *gridPropsIn `json:"gridProperties"`
}

type gridPropsIn struct {
	RowCount          *int `json:"rowCount"`
	ColumnCount       *int `json:"columnCount"`
	FrozenRowCount    *int `json:"frozenRowCount"`
	FrozenColumnCount *int `json:"frozenColumnCount"`
}

type valueRangeIn struct {
	Range          string  `json:"range"`
	MajorDimension string  `json:"majorDimension"`
	Values         [][]any `json:"values"`
}

type batchUpdateValuesIn struct {
	ValueInputOption             string         `json:"valueInputOption"`
	Data                         []valueRangeIn `json:"data"`
	IncludeValuesInResponse      bool           `json:"includeValuesInResponse"`
	ResponseValueRenderOption    string         `json:"responseValueRenderOption"`
	ResponseDateTimeRenderOption string         `json:"responseDateTimeRenderOption"`
}

type batchClearValuesIn struct {
	Ranges []string `json:"ranges"`
}
