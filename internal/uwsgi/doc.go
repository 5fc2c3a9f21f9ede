// Package uwsgi speaks the uwsgi binary protocol that nginx's uwsgi_pass and
// Apache's mod_proxy_uwsgi use: it reads request packets into CGI variables;
// the server loop lives in server.go.
//
// A request packet is a 4-byte header (modifier1, a little-endian 16-bit
// size, modifier2), then size bytes of variables, each a little-endian
// 16-bit length and bytes for the name and again for the value, then
// CONTENT_LENGTH bytes of body. The response is plain HTTP/1.x, delimited
// by Content-Length or by closing the connection, never chunked: nginx's
// uwsgi module cannot de-chunk.
//
// The codec reads only what a WSGI server needs: modifier1 0 (a request)
// and 30 (the same, with SCRIPT_NAME to be stripped from PATH_INFO). After
// any error the position in the stream is unknown and the connection must
// be closed.
package uwsgi
