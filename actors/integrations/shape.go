package integrations

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/actors/asl/expr"
)

// Shapes: a Task's Parameters name an AWS API's members in PascalCase, as the
// service's API reference does ("TableName", "Item", "QueueUrl"); aws-sdk-go-v2's
// input and output structs carry the same names. toShape fills an input struct from
// the Parameters by name, fromShape renders an output struct back as JSON with the
// same names, which is how Step Functions shows a service's answer.
//
// Tagged unions (DynamoDB's AttributeValue: {"S": "x"}) are interfaces in the SDK,
// one concrete "<Union>Member<Key>" type per member; the unions a service uses are
// registered with its client (unionOf).

// union describes one tagged-union interface type: its members by key.
type union struct {
	members map[string]reflect.Type // "S" -> AttributeValueMemberS (pointer type)
	keys    map[reflect.Type]string
}

// unions maps union interface types to their members.
type unions map[reflect.Type]*union

// unionOf registers the members of the union interface I (each a pointer to a
// struct whose type name ends in "Member<Key>" and whose Value field holds the member).
func (u unions) add(iface reflect.Type, members ...any) {
	un := &union{members: map[string]reflect.Type{}, keys: map[reflect.Type]string{}}
	for _, m := range members {
		t := reflect.TypeOf(m)
		name := t.Elem().Name()
		key := name[strings.LastIndex(name, "Member")+len("Member"):]
		un.members[key] = t
		un.keys[t] = key
	}
	u[iface] = un
}

// shapeError is a Parameters value that does not fit the API's input shape.
type shapeError struct{ path, msg string }

func (e *shapeError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return "The value of the field '" + e.path + "' " + e.msg
}

var (
	timeType   = reflect.TypeOf(time.Time{})
	readerType = reflect.TypeFor[io.Reader]()
)

// maxBody bounds a streamed body read into an output: Step Functions' payload quota.
const maxBody = 256 * 1024

// toShape sets dst (a pointer to an input struct) from v, a parsed JSON value.
func (u unions) toShape(dst reflect.Value, v any, path string) error {
	t := dst.Type()
	if v == nil {
		dst.Set(reflect.Zero(t))
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := u.toShape(p.Elem(), v, path); err != nil {
			return err
		}
		dst.Set(p)
		return nil
	case reflect.Interface:
		if t == readerType {
			// A streamed body (S3's PutObject Body): text as it is, JSON as its text.
			text, ok := v.(string)
			if !ok {
				text = expr.Marshal(v)
			}
			dst.Set(reflect.ValueOf(strings.NewReader(text)))
			return nil
		}
		un := u[t]
		obj, ok := v.(*expr.Object)
		if un == nil {
			return &shapeError{path, "is of a type sfnd cannot send"}
		}
		if !ok || obj.Len() != 1 {
			return &shapeError{path, "must be an object with exactly one member"}
		}
		for k, mv := range obj.All() {
			mt, ok := un.members[k]
			if !ok {
				return &shapeError{path, "has an unknown member '" + k + "'"}
			}
			m := reflect.New(mt.Elem())
			if err := u.toShape(m.Elem().FieldByName("Value"), mv, path+"."+k); err != nil {
				return err
			}
			dst.Set(m)
		}
		return nil
	case reflect.Struct:
		if t == timeType {
			tm, err := parseTime(v)
			if err != nil {
				return &shapeError{path, err.Error()}
			}
			dst.Set(reflect.ValueOf(tm))
			return nil
		}
		obj, ok := v.(*expr.Object)
		if !ok {
			return &shapeError{path, "must be an object"}
		}
		for k, fv := range obj.All() {
			name := k
			if name == "EqualsValue" { // Step Functions' spelling of "Equals"
				name = "Equals"
			}
			f, ok := t.FieldByName(name)
			if !ok || !f.IsExported() || f.Name == "ResultMetadata" {
				return &shapeError{msg: "The field '" + joinPath(path, k) + "' is not supported by this API action."}
			}
			if err := u.toShape(dst.FieldByIndex(f.Index), fv, joinPath(path, k)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // blobs travel as base64 text
			s, ok := v.(string)
			if !ok {
				return &shapeError{path, "must be a base64-encoded string"}
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				b = []byte(s) // a blob given as plain text is sent as its bytes
			}
			dst.SetBytes(b)
			return nil
		}
		arr, ok := v.([]any)
		if !ok {
			return &shapeError{path, "must be an array"}
		}
		s := reflect.MakeSlice(t, len(arr), len(arr))
		for i, ev := range arr {
			if err := u.toShape(s.Index(i), ev, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		dst.Set(s)
		return nil
	case reflect.Map:
		obj, ok := v.(*expr.Object)
		if !ok || t.Key().Kind() != reflect.String {
			return &shapeError{path, "must be an object"}
		}
		m := reflect.MakeMapWithSize(t, obj.Len())
		for k, ev := range obj.All() {
			e := reflect.New(t.Elem()).Elem()
			if err := u.toShape(e, ev, joinPath(path, k)); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), e)
		}
		dst.Set(m)
		return nil
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			switch x := v.(type) {
			case json.Number:
				s = x.String() // a number where the API wants text (DynamoDB's N)
			case *expr.Object, []any:
				// A JSON value where the API wants text (SQS's MessageBody, SNS's
				// Message, EventBridge's Detail) is sent as its JSON text.
				s = expr.Marshal(x)
			default:
				return &shapeError{path, "must be a string"}
			}
		}
		dst.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return &shapeError{path, "must be a boolean"}
		}
		dst.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil || dst.OverflowInt(i) {
			return &shapeError{path, "must be an integer"}
		}
		dst.SetInt(i)
		return nil
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		f, err := n.Float64()
		if !ok || err != nil {
			return &shapeError{path, "must be a number"}
		}
		dst.SetFloat(f)
		return nil
	}
	return &shapeError{path, "is of a type sfnd cannot send"}
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// parseTime reads a timestamp given as epoch seconds or as ISO 8601 text.
func parseTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return time.Time{}, err
		}
		return time.UnixMilli(int64(f * 1000)).UTC(), nil
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, errors.New("must be a timestamp")
}

// fromShape renders an output value as JSON (expr values): structs by field name in
// declaration order, absent (nil) members left out, blobs as base64, timestamps as
// ISO 8601, unions as {"<Key>": value}.
func (u unions) fromShape(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		if r, ok := v.Interface().(io.Reader); ok {
			// A streamed body (S3's GetObject Body) is read and given as text, as
			// Step Functions does; at most the largest payload it can hold.
			b, _ := io.ReadAll(io.LimitReader(r, maxBody))
			if c, ok := r.(io.Closer); ok {
				_ = c.Close()
			}
			return string(b)
		}
		if v.Kind() == reflect.Interface {
			inner := v.Elem()
			if un := u[v.Type()]; un != nil {
				if key, ok := un.keys[inner.Type()]; ok {
					return expr.ObjectOf(key, u.fromShape(inner.Elem().FieldByName("Value")))
				}
			}
			return u.fromShape(inner)
		}
		return u.fromShape(v.Elem())
	case reflect.Struct:
		if v.Type() == timeType {
			return v.Interface().(time.Time).UTC().Format(time.RFC3339Nano)
		}
		t := v.Type()
		obj := expr.NewObject(t.NumField())
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || f.Name == "ResultMetadata" {
				continue
			}
			fv := v.Field(i)
			if (fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Interface || fv.Kind() == reflect.Map ||
				fv.Kind() == reflect.Slice) && fv.IsNil() {
				continue
			}
			obj.Set(f.Name, u.fromShape(fv))
		}
		return obj
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return base64.StdEncoding.EncodeToString(v.Bytes())
		}
		out := make([]any, v.Len())
		for i := range v.Len() {
			out[i] = u.fromShape(v.Index(i))
		}
		return out
	case reflect.Map:
		keys := v.MapKeys()
		names := make([]string, len(keys))
		for i, k := range keys {
			names[i] = k.String()
		}
		slices.Sort(names)
		obj := expr.NewObject(len(names))
		for _, n := range names {
			obj.Set(n, u.fromShape(v.MapIndex(reflect.ValueOf(n).Convert(v.Type().Key()))))
		}
		return obj
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return json.Number(strconv.FormatInt(v.Int(), 10))
	case reflect.Float32, reflect.Float64:
		return json.Number(strconv.FormatFloat(v.Float(), 'f', -1, 64))
	}
	return nil
}
