// Package httpfront is carafe's HTTP/1.1 front end: request parsing, body
// framing and the connection loop that hands requests to the WSGI layer.
package httpfront
