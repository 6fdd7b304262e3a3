module github.com/leadstream/leadstream/services/notifier

go 1.26.8

replace (
	github.com/leadstream/leadstream/pkg => ../../pkg
	github.com/leadstream/leadstream/proto => ../../proto
)
