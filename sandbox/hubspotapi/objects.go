package hubspotapi

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PropertyValue is one value a property was set to.
type PropertyValue struct {
	// Value is the value written.
	Value string
	// Time is when it was written, by the server's clock.
	Time time.Time
	// RequestSeq is the Seq of the logged request that wrote it.
	RequestSeq int64
}

// object is a stored CRM record of any type.
type object struct {
	id       int64
	props    map[string]string
	history  map[string][]PropertyValue
	contacts []int64 // associated contact ids (notes only)
	created  time.Time
	updated  time.Time
	updates  int
	versions []version // what search sees, when search is delayed
}

// version is the state of an object as written at a moment, kept so that
// search can lag behind writes.
type version struct {
	at       time.Time
	props    map[string]string
	contacts []int64
}

// store holds the objects of one type.
type store struct {
	kind        string // path segment, such as "contacts"
	objectType  string // name in messages, such as "CONTACT"
	schema      *schema
	createdProp string // system property holding the creation time
	updatedProp string // system property holding the last modification
	defaults    []string
	objects     map[int64]*object
	ids         []int64 // creation order
	nextID      int64
	unique      map[string]map[string]int64 // unique property → value → id
}

func newStore(kind, objectType string, sc *schema, firstID int64, createdProp, updatedProp string, defaults ...string) *store {
	st := &store{
		kind:        kind,
		objectType:  objectType,
		schema:      sc,
		createdProp: createdProp,
		updatedProp: updatedProp,
		defaults:    defaults,
		objects:     map[int64]*object{},
		nextID:      firstID,
		unique:      map[string]map[string]int64{},
	}
	for name, p := range sc.props {
		if p.Unique {
			st.unique[name] = map[string]int64{}
		}
	}
	return st
}

// addProperty makes a property known to the store.
func (st *store) addProperty(p Property) {
	st.schema.props[p.Name] = p
	if p.Unique && st.unique[p.Name] == nil {
		idx := map[string]int64{}
		for _, o := range st.objects {
			if v := o.props[p.Name]; v != "" {
				idx[normalize(p.Name, v)] = o.id
			}
		}
		st.unique[p.Name] = idx
	}
}

// normalize folds the values of a unique property for lookups: emails
// match case-insensitively, other unique values exactly.
func normalize(prop, v string) string {
	if prop == "email" {
		return strings.ToLower(strings.TrimSpace(v))
	}
	return v
}

// isIDProperty reports whether prop can identify an object.
func (st *store) isIDProperty(prop string) bool {
	return prop == "hs_object_id" || st.unique[prop] != nil
}

// lookup finds the object whose idProperty prop has value v.
func (st *store) lookup(prop, v string) *object {
	if prop == "" || prop == "hs_object_id" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil
		}
		return st.objects[id]
	}
	idx := st.unique[prop]
	if idx == nil {
		return nil
	}
	if id, ok := idx[normalize(prop, v)]; ok {
		return st.objects[id]
	}
	return nil
}

// conflict returns the first unique property in vals whose value another
// object than self already holds, and that object's id.
func (st *store) conflict(self *object, vals map[string]string) (string, int64) {
	for _, name := range slices.Sorted(maps.Keys(vals)) {
		idx := st.unique[name]
		if idx == nil || vals[name] == "" {
			continue
		}
		if id, ok := idx[normalize(name, vals[name])]; ok && (self == nil || id != self.id) {
			return name, id
		}
	}
	return "", 0
}

// create stores a new object with vals.
func (st *store) create(vals map[string]string, now time.Time, seq int64, searchDelay bool) *object {
	o := &object{
		id:      st.nextID,
		props:   map[string]string{},
		history: map[string][]PropertyValue{},
		created: now,
	}
	st.nextID++
	st.objects[o.id] = o
	st.ids = append(st.ids, o.id)
	st.set(o, vals, now, seq, searchDelay)
	o.updates = 0
	return o
}

// set writes vals to o, keeping the unique indexes and the history.
func (st *store) set(o *object, vals map[string]string, now time.Time, seq int64, searchDelay bool) {
	for _, name := range slices.Sorted(maps.Keys(vals)) {
		v := vals[name]
		if idx := st.unique[name]; idx != nil {
			if old := o.props[name]; old != "" {
				delete(idx, normalize(name, old))
			}
			if v != "" {
				idx[normalize(name, v)] = o.id
			}
		}
		o.props[name] = v
		o.history[name] = append(o.history[name], PropertyValue{Value: v, Time: now, RequestSeq: seq})
	}
	o.updated = now
	o.updates++
	st.snapshot(o, searchDelay)
}

// snapshot records what search will see of o once the delay has passed.
func (st *store) snapshot(o *object, searchDelay bool) {
	if searchDelay {
		o.versions = append(o.versions, version{at: o.updated, props: st.view(o), contacts: slices.Clone(o.contacts)})
	}
}

// view returns the stored properties of o plus its system properties.
func (st *store) view(o *object) map[string]string {
	v := maps.Clone(o.props)
	v["hs_object_id"] = strconv.FormatInt(o.id, 10)
	v[st.createdProp] = hsTime(o.created)
	v[st.updatedProp] = hsTime(o.updated)
	return v
}

// searchable returns what search sees of o at now: the newest version
// written at least delay ago. ok is false while o is not yet indexed.
func (st *store) searchable(o *object, now time.Time, delay time.Duration) (props map[string]string, contacts []int64, ok bool) {
	if delay <= 0 {
		return st.view(o), o.contacts, true
	}
	visible := -1
	for i, v := range o.versions {
		if !v.at.Add(delay).After(now) {
			visible = i
		}
	}
	if visible < 0 {
		return nil, nil, false
	}
	o.versions = o.versions[visible:]
	return o.versions[0].props, o.versions[0].contacts, true
}

// hsTime formats t as HubSpot does: UTC with milliseconds.
func hsTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// publicObject is SimplePublicObject and its variants on the wire.
type publicObject struct {
	ID                    string                        `json:"id"`
	Properties            map[string]string             `json:"properties"`
	PropertiesWithHistory map[string][]historyValue     `json:"propertiesWithHistory,omitempty"`
	Associations          map[string]associationResults `json:"associations,omitempty"`
	CreatedAt             string                        `json:"createdAt"`
	UpdatedAt             string                        `json:"updatedAt"`
	Archived              bool                          `json:"archived"`
	New                   *bool                         `json:"new,omitempty"`
	ObjectWriteTraceID    string                        `json:"objectWriteTraceId,omitempty"`
}

// historyValue is ValueWithTimestamp on the wire.
type historyValue struct {
	Value      string `json:"value"`
	Timestamp  string `json:"timestamp"`
	SourceType string `json:"sourceType"`
	SourceID   string `json:"sourceId,omitempty"`
}

// associationResults lists the ids an object is associated with.
type associationResults struct {
	Results []associatedID `json:"results"`
}

type associatedID struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// public renders o with the named properties (the store's defaults when
// names is empty) and the history of the properties in withHistory.
func (st *store) public(o *object, names, withHistory []string) publicObject {
	return st.render(o, st.view(o), names, withHistory)
}

// render is public over a given view of o's properties.
func (st *store) render(o *object, all map[string]string, names, withHistory []string) publicObject {
	if len(names) == 0 {
		names = st.defaults
	}
	props := map[string]string{}
	for _, n := range names {
		if v, ok := all[n]; ok {
			props[n] = v
		}
	}
	p := publicObject{
		ID:         strconv.FormatInt(o.id, 10),
		Properties: props,
		CreatedAt:  hsTime(o.created),
		UpdatedAt:  hsTime(o.updated),
	}
	for _, n := range withHistory {
		hist := o.history[n]
		if len(hist) == 0 {
			continue
		}
		if p.PropertiesWithHistory == nil {
			p.PropertiesWithHistory = map[string][]historyValue{}
		}
		out := make([]historyValue, 0, len(hist))
		for i := len(hist) - 1; i >= 0; i-- { // newest first, as HubSpot lists them
			out = append(out, historyValue{
				Value:      hist[i].Value,
				Timestamp:  hsTime(hist[i].Time),
				SourceType: "API",
				SourceID:   "request-" + strconv.FormatInt(hist[i].RequestSeq, 10),
			})
		}
		p.PropertiesWithHistory[n] = out
	}
	return p
}

// writeNames returns the properties a write answers with: those written
// plus the store's defaults.
func (st *store) writeNames(vals map[string]string) []string {
	names := slices.Clone(st.defaults)
	for n := range vals {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}
