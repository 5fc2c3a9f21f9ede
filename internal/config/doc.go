// Package config owns carafe's options: one table (see [Options]) from which
// the command-line flags, the uWSGI-style ini files and the options reference
// (docs/options.md) are all derived, so the three cannot drift apart.
//
// Option names are uWSGI's. [Parse] turns os.Args[1:] plus any --ini files
// into a validated [Config]; values from ini files are applied first and
// command-line flags last, whatever their order on the command line.
package config
