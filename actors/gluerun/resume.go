package gluerun

import "maps"

// ResumePlan plans the resumption of a COMPLETED run at the node keys selected
// (GLUE.md §3.8): it drops the selected nodes that are downstream of another selected
// node, and returns the nodes the new run copies (everything but the selected nodes
// and what lies downstream of them, which run again) and the fired triggers it keeps
// (those not downstream of a selected node).
func ResumePlan(orig *Run, keys []string) (kept []string, copied map[string]*Node, fired map[string]bool) {
	down := func(from string) (map[string]bool, map[string]bool) {
		nodes, trigs := map[string]bool{}, map[string]bool{}
		queue := []string{from}
		for len(queue) > 0 {
			k := queue[0]
			queue = queue[1:]
			for i := range orig.Triggers {
				t := &orig.Triggers[i]
				if trigs[t.Name] || t.Predicate == nil {
					continue
				}
				watches := false
				for _, c := range t.Predicate.Conditions {
					if typ, name := conditionTarget(c); NodeKey(typ, name) == k {
						watches = true
					}
				}
				if !watches {
					continue
				}
				trigs[t.Name] = true
				for _, a := range t.Actions {
					typ, name := actionTarget(a)
					if ak := NodeKey(typ, name); name != "" && !nodes[ak] {
						nodes[ak] = true
						queue = append(queue, ak)
					}
				}
			}
		}
		return nodes, trigs
	}
	downNodes, downTrigs := map[string]bool{}, map[string]bool{}
	perKey := map[string]map[string]bool{}
	for _, k := range keys {
		n, t := down(k)
		perKey[k] = n
		maps.Copy(downNodes, n)
		maps.Copy(downTrigs, t)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		below := false
		for _, o := range keys {
			if o != k && perKey[o][k] && !perKey[k][o] {
				below = true
			}
		}
		if !below {
			kept = append(kept, k)
		}
	}
	copied = map[string]*Node{}
	for k, n := range orig.Nodes {
		if downNodes[k] && !seen[k] {
			continue // runs again when its trigger fires
		}
		c := *n
		copied[k] = &c
	}
	fired = map[string]bool{}
	for t := range orig.Fired {
		if !downTrigs[t] {
			fired[t] = true
		}
	}
	return kept, copied, fired
}
