package fault

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEchoCapsLongValues(t *testing.T) {
	huge := strings.Repeat("é", 1<<20)
	e, _ := As(New(InvalidArn, "Invalid Arn: '%s'", huge))
	if n := utf8.RuneCountInString(e.Message); n > MaxEcho+100 {
		t.Fatalf("message of %d characters echoes the whole value", n)
	}
	if !strings.HasPrefix(e.Message, "Invalid Arn: 'éé") || !strings.HasSuffix(e.Message, "...'") || !utf8.ValidString(e.Message) {
		t.Fatalf("message %q...", e.Message[:40])
	}
	short := strings.Repeat("a", 3097) // AWS echoes a 3,097-character token whole
	if e, _ := As(New(ValidationException, "Value '%s'", short)); e.Message != "Value '"+short+"'" {
		t.Fatal("a value under the cap was changed")
	}
}
