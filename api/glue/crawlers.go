package glue

import (
	"context"
	"encoding/json"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/actors/gluerun"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
)

func (s *Server) registerCrawlers() {
	s.ops["CreateCrawler"] = s.createCrawler
	s.ops["GetCrawler"] = s.getCrawler
	s.ops["GetCrawlers"] = s.getCrawlers
	s.ops["ListCrawlers"] = s.listCrawlers
	s.ops["BatchGetCrawlers"] = s.batchGetCrawlers
	s.ops["StartCrawler"] = s.startCrawler
	s.ops["StopCrawler"] = s.stopCrawler
	s.ops["DeleteCrawler"] = s.deleteCrawler
}

func crawlerNotFound(name string) func() error {
	return func() error { return fault.New(EntityNotFound, "Crawler entry with name %s does not exist", name) }
}

// crawlerTargetKinds are the members of CrawlerTargets.
var crawlerTargetKinds = []string{"S3Targets", "JdbcTargets", "MongoDBTargets", "DynamoDBTargets", "CatalogTargets", "DeltaTargets", "IcebergTargets", "HudiTargets"}

func (s *Server) createCrawler(ctx context.Context, r *request) (any, error) {
	var raw map[string]json.RawMessage
	if err := r.Decode(&raw); err != nil {
		return nil, err
	}
	var in struct {
		Name         *string           `json:"Name"`
		Role         *string           `json:"Role"`
		Targets      map[string][]any  `json:"Targets"`
		DatabaseName *string           `json:"DatabaseName"`
		Description  *string           `json:"Description"`
		Schedule     *string           `json:"Schedule"`
		TablePrefix  *string           `json:"TablePrefix"`
		Tags         map[string]string `json:"Tags"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	nameString(&v, "name", in.Name, true)
	v.Required("role", in.Role != nil)
	v.Required("targets", in.Targets != nil)
	v.OptionalString("description", in.Description, 0, 2048)
	v.OptionalString("tablePrefix", in.TablePrefix, 0, 128)
	tagErr := checkTags(&v, in.Tags)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if tagErr != nil {
		return nil, tagErr
	}
	n := 0
	for _, k := range crawlerTargetKinds {
		n += len(in.Targets[k])
	}
	if n == 0 {
		return nil, fault.New(InvalidInput, "Crawler must have at least one target")
	}
	if in.Schedule != nil && *in.Schedule != "" {
		if _, err := gluerun.ParseCron(*in.Schedule); err != nil {
			return nil, fault.New(InvalidInput, "Invalid schedule expression %s", *in.Schedule)
		}
	}
	now := events.GlueNow(s.now())
	body := map[string]any{}
	for k, val := range raw {
		if k != "Tags" && k != "Schedule" {
			body[k] = val
		}
	}
	body["State"] = "READY"
	body["CrawlElapsedTime"] = 0
	body["CreationTime"] = now
	body["LastUpdated"] = now
	body["Version"] = 1
	if in.Schedule != nil && *in.Schedule != "" {
		body["Schedule"] = map[string]string{"ScheduleExpression": *in.Schedule, "State": "NOT_SCHEDULED"}
	}
	if _, err := s.mutate(ctx, events.GlueCrawler, "", *in.Name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur != nil {
			return nil, "", fault.New(AlreadyExists, "Crawler with name %s already exists", *in.Name)
		}
		return &events.GlueResource{Body: encodeBody(body), Tags: in.Tags}, events.GlueCreated, nil
	}); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) getCrawler(ctx context.Context, r *request) (any, error) {
	name, err := decodeName(r)
	if err != nil {
		return nil, err
	}
	rec, err := s.resource(ctx, events.GlueCrawler, "", name, crawlerNotFound(name))
	if err != nil {
		return nil, err
	}
	return map[string]any{"Crawler": rec.Body}, nil
}

// decodeName reads a request whose only required member is Name.
func decodeName(r *request) (string, error) {
	var in nameInput
	if err := r.Decode(&in); err != nil {
		return "", err
	}
	var v violations
	nameString(&v, "name", in.Name, true)
	if err := v.Err(); err != nil {
		return "", err
	}
	return *in.Name, nil
}

func (s *Server) getCrawlers(ctx context.Context, r *request) (any, error) {
	return s.getBodies(ctx, r, events.GlueCrawler, 1000, "Crawlers", nil)
}

func (s *Server) listCrawlers(ctx context.Context, r *request) (any, error) {
	return s.listNames(ctx, r, events.GlueCrawler, 1000, "CrawlerNames")
}

func (s *Server) batchGetCrawlers(ctx context.Context, r *request) (any, error) {
	var in struct {
		CrawlerNames []string `json:"CrawlerNames"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	return s.batchGet(ctx, in.CrawlerNames, "crawlerNames", 100, events.GlueCrawler, "Crawlers", "CrawlersNotFound")
}

func (s *Server) startCrawler(ctx context.Context, r *request) (any, error) {
	name, err := decodeName(r)
	if err != nil {
		return nil, err
	}
	if _, err := s.resource(ctx, events.GlueCrawler, "", name, crawlerNotFound(name)); err != nil {
		return nil, err
	}
	if s.runs == nil {
		return nil, fault.New(fault.InternalFailure, "crawls are not enabled")
	}
	if _, err := s.runs.StartCrawl(ctx, actors.GlueCrawlRequest{CrawlerName: name, API: true}); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) stopCrawler(ctx context.Context, r *request) (any, error) {
	name, err := decodeName(r)
	if err != nil {
		return nil, err
	}
	if _, err := s.resource(ctx, events.GlueCrawler, "", name, crawlerNotFound(name)); err != nil {
		return nil, err
	}
	if s.runs == nil {
		return nil, fault.New(fault.InternalFailure, "crawls are not enabled")
	}
	if err := s.runs.StopCrawl(ctx, name); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) deleteCrawler(ctx context.Context, r *request) (any, error) {
	name, err := decodeName(r)
	if err != nil {
		return nil, err
	}
	if _, err := s.mutate(ctx, events.GlueCrawler, "", name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil {
			return nil, "", crawlerNotFound(name)()
		}
		if cur.Current != "" {
			return nil, "", fault.New(CrawlerRunning, "Crawler with name %s has already started", name)
		}
		next := *cur
		return &next, events.GlueDeleted, nil
	}); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
