package glue

// BlueprintEngine registers blueprint archives and runs their layouts.
type BlueprintEngine interface{}

func (s *Server) registerBlueprints() {}
