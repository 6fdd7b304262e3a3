// Package demo plays example traffic through the tracker's public API and
// shows what the pipeline made of it: every stage transition as it
// arrives on the transitions topic, checked against what the rules
// simulator expects (none missing, none more, once the scorers have
// finished the traffic), and a closing count of leads by the stage the
// transitions put them in.
package demo
