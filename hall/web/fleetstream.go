package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"citizenhome/hall/access"
	"citizenhome/sse"
)

// TilesEvery is the most often the fleet page's stream gets new tiles: a thousand kiosks each
// reporting every 10 s change something every 10 ms, and a browser needs no more than this.
const TilesEvery = 500 * time.Millisecond

// tilesEvery is TilesEvery; tests shorten it.
var tilesEvery = TilesEvery

// fleetHub sends the fleet page's tiles, rendered, to every open console stream whenever the
// fleet changed, at most once per tilesEvery.
type fleetHub struct {
	s       *Server
	log     *slog.Logger
	streams *sse.Hub
}

func newFleetHub(s *Server) *fleetHub {
	return &fleetHub{s: s, log: s.log, streams: sse.NewHub(16, sse.CloseOnShutdown())}
}

func (h *fleetHub) run(ctx context.Context) error {
	defer h.streams.Close()
	changes, stop := h.s.o.Fleet.Watch()
	defer stop()
	var last time.Time
	dirty := false
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-changes:
			if !ok {
				return errors.New("web: the fleet's change feed ended")
			}
			if dirty {
				continue // the timer is set
			}
			dirty = true
			if wait := tilesEvery - time.Since(last); wait > 0 {
				timer.Reset(wait)
				continue
			}
		case <-timer.C:
		}
		if !dirty {
			continue
		}
		if h.streams.Len() > 0 {
			if b := h.s.tilesHTML(); b != nil {
				h.streams.Publish(sse.Frame{Event: "tiles", Data: b})
			}
		}
		last, dirty = time.Now(), false
	}
}

// consoleEvents serves GET /console/events, the fleet page's stream: `event: tiles` with the
// tiles' HTML (as the page renders them), first at once, then whenever the fleet changed.
func (s *Server) consoleEvents(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	if s.noFleet(w) {
		return
	}
	s.fleetHub.streams.EndOnShutdown(r)
	ch := s.fleetHub.streams.Add()
	if ch == nil {
		writeError(w, http.StatusServiceUnavailable, "stopping", "halld is stopping")
		return
	}
	defer s.fleetHub.streams.Remove(ch)
	st := sse.Start(w, streamWriteTimeout)
	if st.Send(sse.Frame{Retry: 2 * time.Second, Comment: "halld console"}) != nil {
		return
	}
	if st.Send(sse.Frame{Event: "tiles", Data: s.tilesHTML()}) != nil {
		return
	}
	tick := time.NewTicker(keepAliveEvery)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case f, ok := <-ch:
			if !ok || st.Send(f) != nil {
				return
			}
		case <-tick.C:
			if st.Send(sse.Frame{Comment: "keep-alive"}) != nil {
				return
			}
		}
	}
}
