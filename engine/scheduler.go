package engine

import "context"

// scheduler runs the score jobs on their schedules.
type scheduler struct {
	rt *runtime
}

func newScheduler(rt *runtime) *scheduler { return &scheduler{rt: rt} }

func (s *scheduler) start(ctx context.Context) {}

func (s *scheduler) stop() {}
