package worker

import (
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"google.golang.org/protobuf/proto"
)

func scoringMarshal(ev *leadstreamv1.Event) ([]byte, error) { return proto.Marshal(ev) }
