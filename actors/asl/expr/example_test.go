package expr_test

import (
	"fmt"

	"github.com/sfnd/sfnd/actors/asl/expr"
)

func Example() {
	in, _ := expr.ParseJSON(`{"user":{"name":"Ann"},"n":[1,2,3]}`)
	env := expr.Env{Input: in, Vars: map[string]any{"greeting": "hi"}}

	v, _ := expr.Query("$.n[1:]", env)
	fmt.Println(expr.Marshal(v))

	tmpl := expr.MustParseJSON(`{"who.$":"$.user.name","msg.$":"States.Format('{} {}', $greeting, $.user.name)"}`)
	p, _ := expr.EvalTemplate(tmpl, env)
	fmt.Println(expr.Marshal(p))

	rp := "$.result"
	out, _ := expr.ApplyResultPath(in, &rp, p)
	fmt.Println(expr.Marshal(out))

	_, err := expr.EvalTemplate(expr.MustParseJSON(`{"x.$":"$.missing"}`), env)
	fmt.Println(expr.AsError(err).Name)
	// Output:
	// [2,3]
	// {"who":"Ann","msg":"hi Ann"}
	// {"user":{"name":"Ann"},"n":[1,2,3],"result":{"who":"Ann","msg":"hi Ann"}}
	// States.Runtime
}
