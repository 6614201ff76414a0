package gluerun

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/sfnd/sfnd/events"
)

// Node types of a workflow graph.
const (
	NodeTrigger = "TRIGGER"
	NodeJob     = "JOB"
	NodeCrawler = "CRAWLER"
)

// NodeID is the UniqueId of a workflow graph node: "wnode_" and the SHA-256 of the
// workflow, the node type and the name, so that a node keeps its id between
// GetWorkflow and every run of the same design.
func NodeID(workflow, typ, name string) string {
	h := sha256.Sum256([]byte(workflow + "\x00" + typ + "\x00" + name))
	return "wnode_" + hex.EncodeToString(h[:])
}

// GraphNode is one node of a derived graph.
type GraphNode struct {
	Type     string
	Name     string
	UniqueId string
	// Trigger is the trigger of a TRIGGER node.
	Trigger *events.GlueTriggerBody
}

// Key is the node's key in a run's node map: "JOB:name", "CRAWLER:name".
func (n GraphNode) Key() string { return n.Type + ":" + n.Name }

// Edge joins two nodes by UniqueId.
type Edge struct {
	SourceId      string
	DestinationId string
}

// Graph is a workflow's graph derived from its triggers.
type Graph struct {
	Nodes []GraphNode
	Edges []Edge
}

// BuildGraph derives the graph of a workflow from its triggers (GLUE.md §3.1): a node
// per trigger and per job or crawler named in their actions or conditions; an edge
// from every watched job or crawler to the trigger, and from the trigger to every
// action. Nodes come in the order first seen (triggers in the given order).
func BuildGraph(workflow string, triggers []events.GlueTriggerBody) Graph {
	var g Graph
	seen := map[string]string{}
	node := func(typ, name string, t *events.GlueTriggerBody) string {
		k := typ + ":" + name
		if id, ok := seen[k]; ok {
			return id
		}
		id := NodeID(workflow, typ, name)
		seen[k] = id
		g.Nodes = append(g.Nodes, GraphNode{Type: typ, Name: name, UniqueId: id, Trigger: t})
		return id
	}
	for i := range triggers {
		t := &triggers[i]
		tid := node(NodeTrigger, t.Name, t)
		if t.Predicate != nil {
			for _, c := range t.Predicate.Conditions {
				if typ, name := conditionTarget(c); name != "" {
					g.Edges = append(g.Edges, Edge{SourceId: node(typ, name, nil), DestinationId: tid})
				}
			}
		}
		for _, a := range t.Actions {
			if typ, name := actionTarget(a); name != "" {
				g.Edges = append(g.Edges, Edge{SourceId: tid, DestinationId: node(typ, name, nil)})
			}
		}
	}
	return g
}

func conditionTarget(c events.GlueCondition) (string, string) {
	if c.JobName != nil {
		return NodeJob, *c.JobName
	}
	if c.CrawlerName != nil {
		return NodeCrawler, *c.CrawlerName
	}
	return "", ""
}

func actionTarget(a events.GlueAction) (string, string) {
	if a.JobName != nil {
		return NodeJob, *a.JobName
	}
	if a.CrawlerName != nil {
		return NodeCrawler, *a.CrawlerName
	}
	return "", ""
}
