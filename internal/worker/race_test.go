//go:build race

package worker

// raceOn: the tests run under the race detector, whose shadow memory of
// the heap stays resident whatever the heap gives back.
const raceOn = true
