module github.com/leadstream/leadstream/services/notifier

go 1.26.8

require (
	github.com/leadstream/leadstream/pkg v0.0.0
	github.com/leadstream/leadstream/proto v0.0.0
	go.yaml.in/yaml/v3 v3.0.6
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	github.com/redis/go-redis/v9 v9.23.0 // indirect
	github.com/segmentio/kafka-go v0.4.51 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.uber.org/multierr v1.10.0 // indirect
	go.uber.org/zap v1.28.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace (
	github.com/leadstream/leadstream/pkg => ../../pkg
	github.com/leadstream/leadstream/proto => ../../proto
)
