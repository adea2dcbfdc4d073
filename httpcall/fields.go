package httpcall

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// maxFieldFile caps what one --field key=@file reads.
const maxFieldFile = 64 << 20

// ParseFields turns gh api's --raw-field (raw) and --field (typed)
// arguments into the parameters of a JSON object, as gh does: all raw
// fields first, then the typed ones. A raw field's value is always a
// string. A typed field's value "true", "false" and "null" and integers
// become those JSON values, and "@file" reads the value, as a string, from
// a file ("@-": standard input). "key[sub]=v" nests an object, "key[]=v"
// appends to an array, and "key[]" alone makes an empty array.
//
// Errors are *OptionError, or *ReadError for an unreadable @file.
func ParseFields(raw, typed []string, open Opener) (map[string]any, error) {
	params := map[string]any{}
	for _, f := range raw {
		if err := addField(params, f, false, open); err != nil {
			return nil, err
		}
	}
	for _, f := range typed {
		if err := addField(params, f, true, open); err != nil {
			return nil, err
		}
	}
	return params, nil
}

// addField parses one field the way gh's parseFields does.
func addField(params map[string]any, f string, typed bool, open Opener) error {
	valueIndex := 0
	var keys []string
	keyStart := 0
loop:
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case '[':
			if keyStart == 0 {
				keys = append(keys, f[:i])
			}
			keyStart = i + 1
		case ']':
			keys = append(keys, f[keyStart:i])
		case '=':
			if keyStart == 0 {
				keys = append(keys, f[:i])
			}
			valueIndex = i + 1
			break loop
		}
	}
	if len(keys) == 0 || keys[0] == "" {
		return usagef("invalid field %q: want key=value", f)
	}
	key := f
	if valueIndex > 0 {
		key = f[:valueIndex-1]
	}
	if !bracketsOK(key) {
		// gh reads "a[=1" as a=1 and "a]=1" as {"a":{"a]":1}}; a
		// typo is refused rather than sent as something else. The value
		// is left out of the message: it may be a secret.
		return usagef("invalid field key %q: want name, name[sub]... or name[]", key)
	}
	var value any
	if valueIndex == 0 {
		if keys[len(keys)-1] != "" {
			return usagef("field %q needs a value after \"=\"", f)
		}
	} else {
		value = f[valueIndex:]
	}
	if typed && value != nil {
		v, err := typedValue(value.(string), open)
		if err != nil {
			return err
		}
		value = v
	}

	dest := params
	isArray := false
	sub := ""
	for _, k := range keys {
		if k == "" {
			isArray = true
			continue
		}
		if sub != "" {
			var err error
			if isArray {
				dest, err = fieldSlice(dest, sub, k)
				isArray = false
			} else {
				dest, err = fieldMap(dest, sub)
			}
			if err != nil {
				return err
			}
		}
		sub = k
	}
	if isArray {
		if value == nil { // "key[]", and (as in gh) "key[]=null"
			dest[sub] = []any{}
			return nil
		}
		switch v := dest[sub].(type) {
		case nil:
			dest[sub] = []any{value}
		case []any:
			dest[sub] = append(v, value)
		default:
			return usagef("field %q: %q is not an array", key, sub)
		}
		return nil
	}
	if _, exists := dest[sub]; exists {
		return usagef("field %q: %q is given twice", key, sub)
	}
	dest[sub] = value
	return nil
}

// bracketsOK reports whether key is a name followed by zero or more
// "[sub]" (sub possibly empty), with no other "[" or "]".
func bracketsOK(key string) bool {
	i := strings.IndexAny(key, "[]")
	if i < 0 {
		return true
	}
	for rest := key[i:]; rest != ""; {
		end := strings.IndexByte(rest, ']')
		if rest[0] != '[' || end < 0 || strings.ContainsAny(rest[1:end], "[") {
			return false
		}
		rest = rest[end+1:]
	}
	return true
}

func fieldMap(m map[string]any, key string) (map[string]any, error) {
	if v, ok := m[key]; ok {
		if existing, ok := v.(map[string]any); ok {
			return existing, nil
		}
		return nil, usagef("field %q is not an object", key)
	}
	n := map[string]any{}
	m[key] = n
	return n, nil
}

// fieldSlice returns the object "prev[][next]" goes in: the array's last
// object while it has no next (or next is an array), else a new one.
func fieldSlice(m map[string]any, prev, next string) (map[string]any, error) {
	v, ok := m[prev]
	if !ok {
		n := map[string]any{}
		m[prev] = []any{n}
		return n, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, usagef("field %q is not an array", prev)
	}
	if len(arr) > 0 {
		if last, ok := arr[len(arr)-1].(map[string]any); ok {
			if x, exists := last[next]; !exists || (x != nil && reflect.TypeOf(x).Kind() == reflect.Slice) {
				return last, nil
			}
		}
	}
	n := map[string]any{}
	m[prev] = append(arr, n)
	return n, nil
}

// typedValue is gh's "magic" field value.
func typedValue(v string, open Opener) (any, error) {
	if name, ok := strings.CutPrefix(v, "@"); ok {
		return readFieldFile(open, name)
	}
	if n, err := strconv.Atoi(v); err == nil {
		return n, nil
	}
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	return v, nil
}

func readFieldFile(open Opener, name string) (string, error) {
	if name == "" {
		return "", usagef("field value \"@\" names no file")
	}
	f, err := open.Open(name)
	if err != nil {
		return "", &ReadError{err}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFieldFile+1))
	if err != nil {
		return "", &ReadError{err}
	}
	if len(b) > maxFieldFile {
		return "", &ReadError{fmt.Errorf("%s is larger than %d MiB", name, maxFieldFile>>20)}
	}
	return string(b), nil
}

// FieldsJSON is the request body fields make, as gh api sends it
// (encoding/json: keys sorted).
func FieldsJSON(params map[string]any) ([]byte, error) {
	b, err := json.Marshal(params)
	if err != nil {
		return nil, usagef("fields: %v", err)
	}
	return b, nil
}

// FieldsQuery is the query string fields make with -G (or -X GET), as gh
// api makes it: keys sorted and form-encoded, "key[]" for each array item.
// A nested object's keys are written as "key[sub]" (gh drops the "key").
func FieldsQuery(params map[string]any) string {
	q := url.Values{}
	addFieldQuery(q, "", params)
	return q.Encode()
}

func addFieldQuery(q url.Values, key string, value any) {
	switch v := value.(type) {
	case string:
		q.Add(key, v)
	case nil:
		q.Add(key, "")
	case int:
		q.Add(key, strconv.Itoa(v))
	case bool:
		q.Add(key, strconv.FormatBool(v))
	case map[string]any:
		names := make([]string, 0, len(v))
		for k := range v {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			sub := k
			if key != "" {
				sub = key + "[" + k + "]"
			}
			addFieldQuery(q, sub, v[k])
		}
	case []any:
		for _, item := range v {
			addFieldQuery(q, key+"[]", item)
		}
	}
}
