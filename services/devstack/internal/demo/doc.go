// Package demo plays example traffic through the tracker's public API and
// shows what the pipeline made of it: every stage transition as it
// arrives on the transitions topic, checked against what the rules
// simulator expects, and a closing count of leads by stage.
package demo
