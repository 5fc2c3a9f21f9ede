/*
 * One WSGI call: environ from Go's packed block, start_response, write(),
 * iterating the response into the slot's buffers, and close().
 */
#include "bridge.h"
#include "_cgo_export.h"

#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

extern PyObject *crf_app, *crf_env_template, **crf_keys, *crf_key_input, *crf_str_close,
	*crf_print_exception;
extern int crf_nkeys;

#define CRF_KEY_LITERAL 0xFFFF

/* crf_Responder is start_response (kind 0) or the write callable it returns
 * (kind 1). One of each is kept per slot and reused by its next request,
 * unless the app still holds it when its request ends: that one is stale
 * from then on, and refuses. A request has one write callable, however
 * often start_response returns it (with exc_info). */
typedef struct {
	PyObject_HEAD
	crf_slot *slot; /* NULL once its request ended */
	int kind;
} crf_Responder;

static PyObject *crf_start_response(crf_Responder *self, PyObject *args, PyObject *kw);
static PyObject *crf_write(crf_Responder *self, PyObject *args, PyObject *kw);

static PyObject *crf_responder_call(PyObject *self, PyObject *args, PyObject *kw)
{
	crf_Responder *r = (crf_Responder *)self;

	if (r->slot == NULL || !r->slot->in_request) {
		PyErr_SetString(PyExc_RuntimeError,
				"carafe: called outside the request it belongs to");
		return NULL;
	}
	/* Go reads the slot's head and body with the GIL released, and uses
	 * the connection: another thread must not rewrite them (or realloc the
	 * head) under it, nor write while the body is being read. Setting the
	 * head while a thread reads the body touches nothing Go uses. */
	if (r->slot->in_go == CRF_IN_GO_OUTPUT || (r->slot->in_go && r->kind != 0)) {
		PyErr_SetString(PyExc_RuntimeError,
				"carafe: called while another thread of the request sends or reads it");
		return NULL;
	}
	return r->kind == 0 ? crf_start_response(r, args, kw) : crf_write(r, args, kw);
}

PyTypeObject crf_ResponderType = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "carafe.start_response",
	.tp_basicsize = sizeof(crf_Responder),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_call = crf_responder_call,
	.tp_new = NULL,
};

static PyObject *crf_responder(crf_slot *s, PyObject **cache, int kind)
{
	crf_Responder *r;

	if (*cache != NULL) { /* not held past its last request (crf_responder_end) */
		((crf_Responder *)*cache)->slot = s;
		return *cache;
	}
	r = PyObject_New(crf_Responder, &crf_ResponderType);
	if (r == NULL)
		return NULL;
	r->slot = s;
	r->kind = kind;
	*cache = (PyObject *)r;
	return *cache;
}

/* crf_responder_end detaches a responder the app still holds as the
 * request ends: it is stale from then on, and the next request gets a new
 * one. */
static void crf_responder_end(PyObject **cache)
{
	if (*cache != NULL && Py_REFCNT(*cache) > 1) {
		((crf_Responder *)*cache)->slot = NULL;
		Py_CLEAR(*cache);
	}
}

/* crf_latin1 gives the bytes of a str whose characters all fit in latin-1,
 * without copying (CPython stores such strings one byte a character). */
static const char *crf_latin1(PyObject *o, Py_ssize_t *len, const char *what)
{
	if (!PyUnicode_Check(o)) {
		PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what,
			     Py_TYPE(o)->tp_name);
		return NULL;
	}
	if (PyUnicode_KIND(o) != PyUnicode_1BYTE_KIND) {
		PyErr_Format(PyExc_ValueError, "%s must be latin-1 text: %R", what, o);
		return NULL;
	}
	*len = PyUnicode_GET_LENGTH(o);
	return (const char *)PyUnicode_1BYTE_DATA(o);
}

static int crf_head_put(crf_slot *s, const char *p, Py_ssize_t n)
{
	Py_ssize_t need = s->head_len + 4 + n;
	char *nb;
	uint32_t u = (uint32_t)n;

	if (need > s->head_cap) {
		Py_ssize_t cap = s->head_cap * 2 > need ? s->head_cap * 2 : need;
		nb = realloc(s->head, cap);
		if (nb == NULL) {
			PyErr_NoMemory();
			return -1;
		}
		s->head = nb;
		s->head_cap = cap;
	}
	memcpy(s->head + s->head_len, &u, 4);
	memcpy(s->head + s->head_len + 4, p, n);
	s->head_len = need;
	return 0;
}

/* crf_parse_length is the value of a Content-Length header: its digits'
 * number, or -1 for anything else (Go's check refuses such a head). */
static int64_t crf_parse_length(const char *p, Py_ssize_t n)
{
	int64_t v = 0;
	Py_ssize_t i;

	if (n == 0 || n > 18) /* 18 digits cannot overflow */
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* crf_valid_value: visible latin-1 text, SP and HTAB, no CR, LF, NUL or
 * other control byte (Go's wsgi.validValue, which checks the head again). */
static int crf_valid_value(const char *p, Py_ssize_t n)
{
	Py_ssize_t i;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if ((c < ' ' && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

/* crf_is_token: an RFC 9110 token, as a header name must be. */
static int crf_is_token(const char *p, Py_ssize_t n)
{
	Py_ssize_t i;
	unsigned char c;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL)))
			return 0;
	}
	return 1;
}

/* crf_valid_status: a 3-digit code from 200, a space and a reason; or the
 * code alone, which PEP 3333 does not allow but Gunicorn and uWSGI take
 * (Go adds the code's standard reason). */
static int crf_valid_status(const char *p, Py_ssize_t n)
{
	if (n < 3 || (n > 3 && p[3] != ' ') || p[0] < '2' || p[0] > '9' || p[1] < '0' ||
	    p[1] > '9' || p[2] < '0' || p[2] > '9')
		return 0;
	return n == 3 || crf_valid_value(p + 4, n - 4);
}

/* crf_trim_ows drops the SP and HTAB around a header value. */
static const char *crf_trim_ows(const char *p, Py_ssize_t *n)
{
	while (*n > 0 && (p[0] == ' ' || p[0] == '\t')) {
		p++;
		(*n)--;
	}
	while (*n > 0 && (p[*n - 1] == ' ' || p[*n - 1] == '\t'))
		(*n)--;
	return p;
}

/* crf_reraise raises the exception of exc_info, start_response's argument
 * once the head went out. PyErr_Restore trusts its arguments: anything but
 * an exception (the (None, None, None) of sys.exc_info() outside an except
 * block, a made-up tuple) left pending corrupts memory when it is caught
 * or printed, so only an exception instance, or a class to make one of, is
 * raised. */
static PyObject *crf_reraise(PyObject *exc_info)
{
	PyObject *t, *v, *tb;

	if (!PyTuple_Check(exc_info) || PyTuple_GET_SIZE(exc_info) != 3)
		goto bad;
	t = PyTuple_GET_ITEM(exc_info, 0);
	v = PyTuple_GET_ITEM(exc_info, 1);
	tb = PyTuple_GET_ITEM(exc_info, 2);
	if (PyExceptionInstance_Check(v))
		PyErr_Restore(Py_NewRef(PyExceptionInstance_Class(v)), Py_NewRef(v),
			      PyTraceBack_Check(tb) ? Py_NewRef(tb) : NULL);
	else if (PyExceptionClass_Check(t))
		PyErr_SetObject(t, v);
	else
		goto bad;
	return NULL;
bad:
	PyErr_SetString(PyExc_TypeError, "exc_info must be the (type, value, traceback) of "
					 "sys.exc_info() while an exception is handled");
	return NULL;
}

static PyObject *crf_start_response(crf_Responder *self, PyObject *args, PyObject *kw)
{
	crf_slot *s = self->slot;
	PyObject *status, *headers, *exc_info = Py_None, *seq = NULL, *h;
	const char *p;
	Py_ssize_t n, i;
	int is_length, lengths = 0;
	int64_t length, first = -1;
	static char *names[] = {"status", "headers", "exc_info", NULL};

	if (kw == NULL && PyTuple_GET_SIZE(args) == 2) { /* the usual call: no keyword parsing */
		status = PyTuple_GET_ITEM(args, 0);
		headers = PyTuple_GET_ITEM(args, 1);
	} else if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O:start_response", names, &status,
						&headers, &exc_info))
		return NULL;
	if (exc_info != Py_None) {
		if (s->head_sent)
			return crf_reraise(exc_info);
		s->body_len = s->produced = 0; /* the error page replaces what was buffered */
	} else if (s->head_set) {
		PyErr_SetString(PyExc_RuntimeError,
				"start_response called a second time without exc_info");
		return NULL;
	}
	s->head_len = 0;
	s->head_set = 0;
	s->length = -1;
	/* PEP 3333: "Servers should check for errors in the headers at the
	 * time start_response is called, so that an error can be raised
	 * while the application is still running." */
	p = crf_latin1(status, &n, "status");
	if (p == NULL)
		return NULL;
	if (!crf_valid_status(p, n)) {
		PyErr_Format(
			PyExc_ValueError,
			"invalid status %R (want a 3-digit code 200-999, a space and a reason)",
			status);
		return NULL;
	}
	if (crf_head_put(s, p, n) < 0)
		return NULL;
	seq = PySequence_Fast(headers, "headers must be a list of (name, value) tuples");
	if (seq == NULL)
		return NULL;
	for (i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
		h = PySequence_Fast_GET_ITEM(seq, i);
		if (!PyTuple_Check(h) || PyTuple_GET_SIZE(h) != 2) {
			PyErr_Format(PyExc_TypeError,
				     "header %zd must be a (name, value) tuple, not %R", i, h);
			goto fail;
		}
		p = crf_latin1(PyTuple_GET_ITEM(h, 0), &n, "header name");
		if (p == NULL)
			goto fail;
		if (!crf_is_token(p, n)) {
			PyErr_Format(PyExc_ValueError, "invalid header name %R",
				     PyTuple_GET_ITEM(h, 0));
			goto fail;
		}
		if (crf_head_put(s, p, n) < 0)
			goto fail;
		is_length = n == 14 && strncasecmp(p, "content-length", 14) == 0;
		p = crf_latin1(PyTuple_GET_ITEM(h, 1), &n, "header value");
		if (p == NULL)
			goto fail;
		if (!crf_valid_value(p, n)) {
			/* Held: the name's __str__ is the app's code, which may
			 * drop the list's reference to h before the value is
			 * formatted. */
			PyObject *name = Py_NewRef(PyTuple_GET_ITEM(h, 0));
			PyObject *value = Py_NewRef(PyTuple_GET_ITEM(h, 1));

			PyErr_Format(PyExc_ValueError, "header %S: value %R has control characters",
				     name, value);
			Py_DECREF(name);
			Py_DECREF(value);
			goto fail;
		}
		if (crf_head_put(s, p, n) < 0)
			goto fail;
		if (is_length) {
			p = crf_trim_ows(p, &n);
			length = crf_parse_length(p, n);
			if (length < 0) {
				PyErr_Format(PyExc_ValueError, "invalid Content-Length %R",
					     PyTuple_GET_ITEM(h, 1));
				goto fail;
			}
			if (lengths > 0 && length != first) {
				PyErr_Format(PyExc_ValueError,
					     "a second Content-Length, %R, differs from the first",
					     PyTuple_GET_ITEM(h, 1));
				goto fail;
			}
			/* equal ones are allowed, but two are one too many to batch by */
			first = length;
			s->length = ++lengths == 1 ? length : -1;
		}
	}
	Py_DECREF(seq);
	s->head_set = 1;
	return Py_XNewRef(crf_responder(s, &s->write, 1)); /* NULL: out of memory */
fail:
	Py_DECREF(seq);
	s->head_len = 0;
	return NULL;
}

/* crf_flush hands the head (if new), the buffered body and ext to Go with
 * the GIL released; the caller keeps ext's owner alive until it returns. */
static int crf_flush(crf_slot *s, const char *ext, Py_ssize_t ext_len)
{
	int rc, flags = s->head_sent ? 0 : CRF_OUT_HEAD, was_app;

	s->ext = ext;
	s->ext_len = ext_len;
	crf_leave_if_forked();
	s->in_go = CRF_IN_GO_OUTPUT;
	Py_BEGIN_ALLOW_THREADS
	was_app = crf_in_app;
	crf_in_app = 0; /* Go's code: its faults are Go's (crf_fatal) */
	rc = crfGoOutput(s->index, flags);
	crf_in_app = was_app;
	Py_END_ALLOW_THREADS
	s->in_go = 0;
	s->ext = NULL;
	s->ext_len = 0;
	s->body_len = 0;
	if (rc != 0) {
		/* The head stays unsent: Go refuses a head it cannot send, so
		 * start_response with exc_info may still replace it, and a later
		 * write() offers it again rather than a body without one. */
		s->output_failed = 1;
		PyErr_SetString(PyExc_OSError, "carafe: response could not be sent");
		return -1;
	}
	s->head_sent = 1;
	return 0;
}

/* crf_wait_io waits, the GIL released, while another thread's call to Go
 * for s is in flight: a thread the app started may still be in write() or
 * reading wsgi.input when the app returns or yields. Until it is back, Go
 * is reading the slot's buffers and using the connection, so the request's
 * own thread may neither add output nor end the call. */
static void crf_wait_io(crf_slot *s)
{
	struct timespec ms = {0, 1000000};

	crf_leave_if_forked(); /* a fork's child: no Go to wait for */
	while (s->in_go) {
		Py_BEGIN_ALLOW_THREADS
		nanosleep(&ms, NULL);
		Py_END_ALLOW_THREADS
	}
}

/* crf_emit takes one body chunk: small ones are copied into the slot
 * buffer, large ones go to Go directly. The caller holds a reference to
 * item: crf_flush releases the GIL, and another thread could free a
 * borrowed one (by replacing it in its list) under the write. */
static int crf_emit(crf_slot *s, PyObject *item)
{
	const char *p;
	Py_ssize_t n;

	crf_wait_io(s);
	if (!PyBytes_Check(item)) {
		PyErr_Format(PyExc_TypeError, "response body items must be bytes, not %.100s",
			     Py_TYPE(item)->tp_name);
		return -1;
	}
	n = PyBytes_GET_SIZE(item);
	if (n == 0)
		return 0;
	if (!s->head_set) {
		PyErr_SetString(PyExc_RuntimeError, "response body produced before start_response");
		return -1;
	}
	s->produced += n;
	p = PyBytes_AS_STRING(item);
	if (s->body_len + n <= s->body_cap) {
		memcpy(s->body + s->body_len, p, n);
		s->body_len += n;
		return 0;
	}
	if (n < s->body_cap / 2) {
		if (crf_flush(s, NULL, 0) < 0)
			return -1;
		memcpy(s->body, p, n);
		s->body_len = n;
		return 0;
	}
	return crf_flush(s, p, n);
}

static PyObject *crf_write(crf_Responder *self, PyObject *args, PyObject *kw)
{
	PyObject *data;

	if (kw != NULL && PyDict_GET_SIZE(kw) > 0) {
		PyErr_SetString(PyExc_TypeError, "write() takes no keyword arguments");
		return NULL;
	}
	if (!PyArg_ParseTuple(args, "O:write", &data))
		return NULL;
	if (!self->slot->head_set) { /* a start_response with exc_info failed */
		PyErr_SetString(PyExc_RuntimeError,
				"write() before a start_response that succeeded");
		return NULL;
	}
	if (crf_emit(self->slot, data) < 0)
		return NULL;
	/* The head goes out at the first write(), an empty one too (PEP 3333:
	 * "upon the application's first invocation of the write() callable"),
	 * which apps use to send it early. */
	if ((self->slot->body_len > 0 || !self->slot->head_sent) &&
	    crf_flush(self->slot, NULL, 0) < 0)
		return NULL;
	Py_RETURN_NONE;
}

/* CRF_VALUE_CACHE_MAX is the longest environ value kept for reuse. */
#define CRF_VALUE_CACHE_MAX 128

/* crf_values holds, per numbered key, the str its last value became.
 * Most values repeat from one request to the next (the method, protocol,
 * scheme, server name and port, the client's address, Host, Accept...):
 * an equal value reuses that str (immutable) instead of a new one, which
 * saves its allocation, copy and free. Touched only with the GIL held (a
 * free-threaded build has none, and goes without the cache). Credentials
 * are never kept, nor what may carry one in its path or query (an API
 * token, a password reset's key, which Django puts in the path): one
 * request's cookie or token must not outlive it. */
static PyObject **crf_values;
static unsigned char *crf_secret; /* per numbered key: never kept */

static const char *const crf_secret_keys[] = {
	"HTTP_COOKIE", "HTTP_AUTHORIZATION", "HTTP_X_CSRFTOKEN", "QUERY_STRING", "REQUEST_URI",
	"PATH_INFO", "HTTP_REFERER", NULL};

static int crf_values_init(void)
{
	int i, j;

	crf_values = calloc(crf_nkeys, sizeof(PyObject *));
	crf_secret = calloc(crf_nkeys, 1);
	if (crf_values == NULL || crf_secret == NULL) {
		free(crf_values);
		free(crf_secret);
		crf_values = NULL;
		crf_secret = NULL;
		return -1;
	}
	for (i = 0; i < crf_nkeys; i++)
		for (j = 0; crf_secret_keys[j] != NULL; j++)
			if (PyUnicode_CompareWithASCIIString(crf_keys[i], crf_secret_keys[j]) == 0)
				crf_secret[i] = 1;
	return 0;
}

/* crf_value returns a new reference to the str of a value of key id. */
static PyObject *crf_value(uint16_t id, const char *p, uint32_t n)
{
	PyObject *v, **slot;

#ifdef Py_GIL_DISABLED
	return PyUnicode_DecodeLatin1(p, n, NULL); /* no GIL to guard the cache */
#endif
	if (id >= crf_nkeys || n > CRF_VALUE_CACHE_MAX || n < 2)
		return PyUnicode_DecodeLatin1(p, n, NULL); /* 0 and 1 chars: CPython's singletons */
	if (crf_values == NULL && crf_values_init() < 0)
		return PyUnicode_DecodeLatin1(p, n, NULL);
	if (crf_secret[id])
		return PyUnicode_DecodeLatin1(p, n, NULL);
	slot = &crf_values[id];
	v = *slot;
	if (v != NULL && PyUnicode_GET_LENGTH(v) == (Py_ssize_t)n &&
	    memcmp(PyUnicode_1BYTE_DATA(v), p, n) == 0)
		return Py_NewRef(v);
	v = PyUnicode_DecodeLatin1(p, n, NULL);
	if (v != NULL)
		Py_XSETREF(*slot, Py_NewRef(v));
	return v;
}

/* crf_environ builds the environ dict from Go's block: entries of u16 key
 * number, u32 value length, [u16 key length, key bytes when the number is
 * CRF_KEY_LITERAL], value bytes; all little-endian, values latin-1. */
static PyObject *crf_environ(const char *env, Py_ssize_t len)
{
	PyObject *d = PyDict_Copy(crf_env_template), *k, *v;
	Py_ssize_t pos = 0;
	uint16_t id, klen;
	uint32_t vlen;
	int rc;

	if (d == NULL)
		return NULL;
	while (pos + 6 <= len) {
		memcpy(&id, env + pos, 2);
		memcpy(&vlen, env + pos + 2, 4);
		pos += 6;
		if (id == CRF_KEY_LITERAL) {
			memcpy(&klen, env + pos, 2);
			k = PyUnicode_DecodeLatin1(env + pos + 2, klen, NULL);
			pos += 2 + klen;
		} else if (id < crf_nkeys) {
			k = Py_NewRef(crf_keys[id]);
		} else {
			PyErr_SetString(PyExc_SystemError, "carafe: bad environ key number");
			k = NULL;
		}
		if (k == NULL)
			goto fail;
		v = crf_value(id, env + pos, vlen);
		pos += vlen;
		if (v == NULL) {
			Py_DECREF(k);
			goto fail;
		}
		rc = PyDict_SetItem(d, k, v);
		Py_DECREF(k);
		Py_DECREF(v);
		if (rc < 0)
			goto fail;
	}
	return d;
fail:
	Py_DECREF(d);
	return NULL;
}

/* crf_log_exception prints the pending exception with its traceback to
 * sys.stderr and clears it. Unlike PyErr_Print it never exits the process
 * on SystemExit. */
void crf_log_exception(void)
{
	PyObject *type, *value, *tb, *r;

	PyErr_Fetch(&type, &value, &tb);
	if (type == NULL)
		return;
	PyErr_NormalizeException(&type, &value, &tb);
	if (tb != NULL && value != NULL)
		PyException_SetTraceback(value, tb);
	r = PyObject_CallFunctionObjArgs(crf_print_exception, value ? value : Py_None, NULL);
	if (r == NULL)
		PyErr_Clear();
	Py_XDECREF(r);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
}

/* crf_complete tells whether the app has given the whole body its
 * Content-Length declares: whatever it yields next is surplus, which Go
 * clips. */
static int crf_complete(const crf_slot *s)
{
	return s->length >= 0 && s->produced >= s->length;
}

/* crf_iterate feeds every chunk of the app's result to crf_emit. */
static int crf_iterate(crf_slot *s, PyObject *result)
{
	PyObject *iter, *item;
	Py_ssize_t i;
	int rc = 0, batch, gen;

	if (PyList_CheckExact(result) || PyTuple_CheckExact(result)) {
		for (i = 0; i < PySequence_Fast_GET_SIZE(result); i++) {
			item = Py_NewRef(PySequence_Fast_GET_ITEM(result, i)); /* see crf_emit */
			rc = crf_emit(s, item);
			Py_DECREF(item);
			if (rc < 0)
				return -1;
		}
		return 0;
	}
	/* bytes iterate as ints: the item error would name int, and send
	 * the reader after the wrong thing. */
	if (PyBytes_Check(result) || PyByteArray_Check(result)) {
		PyErr_Format(PyExc_TypeError,
			     "the app returned %.50s, not an iterable of bytes: return [body]",
			     Py_TYPE(result)->tp_name);
		return -1;
	}
	/* Any other iterable may pause between chunks (a stalled upstream,
	 * progress output, a pipe), and PEP 3333 says a server "must not
	 * delay the transmission of any block": each goes out as it comes,
	 * Content-Length or not. Batching, which spares a callback and a write
	 * a chunk, stays where it delays nothing: a list's or tuple's chunks
	 * (above) exist already, a file wrapper over a file in memory or on
	 * disk never waits to read, and once a body reaches its
	 * Content-Length with nothing sent yet nothing is left to come
	 * (Flask's and Django's one chunk, which then leaves with the head in
	 * one write). That body
	 * does wait for the rest of the iterable, and for its close() unless
	 * that has proved slow (crf_close_held): sending it from here instead
	 * costs a release of the GIL in mid-call, which cost Flask with 8
	 * threads a quarter of its requests/s (an A/B when this was built:
	 * 13.1-14.9k against 10.0-11.0k). Not
	 * a generator's: its code after the last yield may take any time (a
	 * cleanup, a log call), or raise, and the client has its answer
	 * already. */
	batch = crf_file_ready(result);
	gen = PyGen_Check(result);
	iter = PyObject_GetIter(result);
	if (iter == NULL)
		return -1;
	while ((item = PyIter_Next(iter)) != NULL) {
		crf_leave_if_forked(); /* forked in a generator */
		rc = crf_emit(s, item);
		Py_DECREF(item);
		/* A body whose earlier chunks went out already streams: its last
		 * one goes out at once too, whatever follows it. */
		if (rc == 0 && s->body_len > 0 && !batch &&
		    (gen || s->head_sent || !crf_complete(s)))
			rc = crf_flush(s, NULL, 0);
		if (rc < 0)
			break;
		/* A HEAD request's answer is complete once its head is out: the
		 * rest of the body would be dropped, and an endless one (a
		 * stream of events) would hold the thread for good, the client
		 * long gone. The iterable is closed, as for a client that left. */
		if (s->head_only && s->head_sent)
			break;
		/* Past its Content-Length the body is complete, and what comes
		 * after is dropped (Go logs it): an iterable that would go on for
		 * good (a generator over /dev/zero, a stream under a fixed
		 * length) held the thread at full CPU, the client answered long
		 * before. It is closed, as uWSGI closes it. An app that gives
		 * exactly its length still runs to its end. */
		if (s->length >= 0 && s->produced > s->length)
			break;
	}
	Py_DECREF(iter);
	return rc < 0 || PyErr_Occurred() ? -1 : 0;
}

/* The lookup of an attribute that may be missing, without raising (and
 * formatting) an AttributeError when it is: 1 found, 0 missing, -1 error. */
#if PY_VERSION_HEX >= 0x030D0000
#define crf_optional_attr PyObject_GetOptionalAttr
#else
#define crf_optional_attr _PyObject_LookupAttr
#endif

/* crf_close calls result.close() if it has one, keeping any exception
 * already pending (it is the more interesting one): the pending exception
 * is set aside first, since looking the method up clears errors. A list or
 * a tuple, the commonest results, has no close() to look for. */
static int crf_close(PyObject *result)
{
	PyObject *type, *value, *tb, *close = NULL, *r = NULL;
	int rc = 0;

	if (PyList_CheckExact(result) || PyTuple_CheckExact(result))
		return 0;
	crf_leave_if_forked();
	PyErr_Fetch(&type, &value, &tb);
	if (crf_optional_attr(result, crf_str_close, &close) < 0) {
		rc = -1;
	} else if (close != NULL) {
		r = PyObject_CallNoArgs(close);
		Py_DECREF(close);
		if (r == NULL)
			rc = -1;
	}
	Py_XDECREF(r);
	if (type != NULL) {
		if (rc < 0)
			crf_log_exception(); /* close() failed too: log it, keep the first */
		PyErr_Restore(type, value, tb);
	}
	return rc;
}

/* crf_log_close_error logs the exception that a result's close() raised
 * once the app had given its last chunk. The response still goes out as the app gave
 * it, as uWSGI and Gunicorn send it: a 500 (or a connection cut after the
 * body) would tell the client that a POST which did its work failed, and
 * it would send it again. Django's close() is where request_finished's
 * receivers run, a cache or database client among them. */
static void crf_log_close_error(void)
{
	PySys_WriteStderr(
		"carafe: the response's close() raised after its last chunk; the response "
		"goes out as the app gave it:\n");
	crf_log_exception();
}

/* crf_send_file has Go send a file_wrapper response's file with sendfile,
 * the GIL released, then closes the result (taking the GIL again): both
 * from crf_run, on the OS thread that ran the call. close() must run on
 * the call's Python thread, as every other result's does (Django closes
 * the request's database connection there, which it finds in thread-local
 * storage), and once crf_run has returned, the goroutine that called it
 * may go on on another OS thread. Returns crf_run's result. */
static int crf_send_file(crf_slot *s, PyObject *result)
{
	int rc, was_app;

	crf_leave_if_forked();
	was_app = crf_in_app;
	crf_in_app = 0;
	rc = crfGoSendFile(s->index) == 0 ? CRF_OK : CRF_OUTPUT_ERROR; /* GIL released by crf_call */
	crf_in_app = was_app;

	s->head_sent = 1;
	s->file_sent = 1;
	crf_enter();
	if (crf_close(result) < 0)
		crf_log_close_error();
	Py_DECREF(result);
	PyEval_SaveThread();
	return rc;
}

/* crf_run calls the app for one request on the calling OS thread (own: a
 * Python thread's own OS thread; any other may refuse with CRF_ELSEWHERE,
 * see crf_may_run). It takes the GIL and gives it back before returning,
 * so Go code never runs holding it (a thread waiting for the Go scheduler
 * with the GIL held would stall every other Python thread). */
static int crf_call(crf_slot *s, int own, const char *env, Py_ssize_t env_len, const char *body,
		    Py_ssize_t body_len, int64_t body_total);

static int crf_calls;		 /* calls between in_request 1 and 0; the GIL guards it */
static unsigned crf_calls_begun; /* calls that reached in_request 1; the GIL guards it */

/* How the app's close() holds back a response: crf_close_held. */
#define CRF_SLOW_CLOSE_NS 2000000 /* a close() this long, alone, is slow */
#define CRF_SLOW_CLOSES	  3	  /* after this many, responses go out first */
static int crf_slow_closes;	  /* seen so far; the GIL guards it */

static int64_t crf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* crf_close_held closes the result of a call (-1 as crf_close fails, -2
 * when the response could not be sent), whose body crf_iterate may hold
 * back to go out with the head in one write once the call ends (one chunk
 * that fills its Content-Length), and returns crf_close's result. That
 * body waits for close(), which is where Flask's call_on_close functions
 * and Django's request_finished receivers run: Gunicorn and uWSGI send it
 * first. Sending it first here costs a release of the GIL in mid-call
 * (Flask JSON, 1 x 8: 8-17% fewer requests/s, measured when this was
 * built), which an app whose close() does nothing much would pay for
 * nothing. So the worker times close() while no other call is in Python
 * and none begins (under load, close() waits for the GIL as well), and
 * once it has seen CRF_SLOW_CLOSES of 2 ms or more in a row it sends such
 * bodies before close() from then on, and says so once. */
static int crf_close_held(crf_slot *s, PyObject *result)
{
	int held, rc;
	int64_t start = 0;
	unsigned begun = crf_calls_begun;

	if (PyList_CheckExact(result) || PyTuple_CheckExact(result))
		return 0; /* no close() to hold anything back (see crf_close) */
	crf_wait_io(s);	  /* a thread the app started may be in write() */
	held = s->body_len > 0 && crf_complete(s);
	if (!held)
		return crf_close(result);
	if (crf_slow_closes >= CRF_SLOW_CLOSES) {
		if (crf_flush(s, NULL, 0) < 0) {
			crf_close(result);
			return -2;
		}
		return crf_close(result);
	}
	if (crf_calls == 1)
		start = crf_now_ns();
	rc = crf_close(result);
	/* A close() that let the GIL go (for I/O) while another request began
	 * timed that request's work too: not a measure. Slow ones must come
	 * in a row, so that a collection or a stall now and then, which a
	 * close() may meet, does not add up over the worker's life. */
	if (start == 0 || crf_calls_begun != begun)
		return rc;
	if (crf_now_ns() - start < CRF_SLOW_CLOSE_NS)
		crf_slow_closes = 0;
	else if (++crf_slow_closes == CRF_SLOW_CLOSES)
		PySys_WriteStderr(
			"carafe: the app's close() took 2 ms or more after its response was ready, "
			"%d times in a row (Flask's call_on_close, Django's request_finished "
			"receivers): "
			"this worker now sends such responses before it calls close()\n",
			CRF_SLOW_CLOSES);
	return rc;
}

/* crf_send_held sends the body crf_iterate held back whole (a chunk that
 * filled its Content-Length, to go out with the head once the iterable
 * ended) when the iterable then raised: the client gets the response the
 * app completed, and Go closes the connection after it, an app error once
 * the answer is out. Gunicorn and uWSGI send it as it came; a 500 in its
 * place would tell the client that work which was done failed. The app's
 * exception stays pending, to be logged; a send that fails leaves the
 * head unsent, and Go, whose write failed, answers nothing more. */
static void crf_send_held(crf_slot *s)
{
	PyObject *type, *value, *tb;

	PyErr_Fetch(&type, &value, &tb);
	crf_wait_io(s); /* a thread the app started may be in write() */
	if (s->head_set && !s->head_sent && !s->output_failed && s->body_len > 0 && crf_complete(s) &&
	    crf_flush(s, NULL, 0) < 0) {
		PyErr_Clear();
		s->output_failed = 0; /* the app's error is the one to log */
	}
	PyErr_Restore(type, value, tb);
}

/* crf_run is crf_call with this thread marked as running the app's code,
 * for crf_fatal. */
int crf_run(crf_slot *s, int own, const char *env, Py_ssize_t env_len, const char *body,
	    Py_ssize_t body_len, int64_t body_total)
{
	int rc;

	crf_app_env = env;
	crf_app_env_len = env_len;
	crf_in_app = 1;
	rc = crf_call(s, own, env, env_len, body, body_len, body_total);
	crf_in_app = 0;
	crf_app_env = NULL;
	return rc;
}

static int crf_call(crf_slot *s, int own, const char *env, Py_ssize_t env_len, const char *body,
		    Py_ssize_t body_len, int64_t body_total)
{
	PyObject *environ = NULL, *result = NULL, *input = NULL, *file = NULL, *app = NULL, *sr,
		 *args[2];
	int rc = CRF_OK;

	/* Past the atexit handlers, Python ends any thread that takes the GIL
	 * (it would be this one, a Go thread): a call that came that late, its
	 * body read after the drain, is refused without Python. */
	if (crf_atexit_began()) {
		s->head_sent = s->file_sent = 0;
		fputs("carafe: a request came while the worker finalises Python: answered 500\n",
		      stderr);
		return CRF_APP_ERROR;
	}
	if (!crf_may_run(own))
		return CRF_ELSEWHERE;
	/* (atomic: harakiri's watchdog reads it from another thread) */
	__atomic_store_n(&s->tstate, crf_enter(), __ATOMIC_RELEASE);
	s->head_len = s->body_len = 0;
	s->head_set = s->head_sent = s->output_failed = s->file_sent = 0;
	s->length = -1;
	s->produced = 0;
	/* Held through the call: crf_mark_atexit may drop crf_app meanwhile
	 * (from here on, anything that allocates may run a collection whose
	 * finalisers let the GIL go). */
	app = Py_XNewRef(crf_app);
	if (app == NULL) { /* Python's finalisation is past it: a call that came late */
		PyErr_SetString(PyExc_RuntimeError,
				"carafe: the worker is stopping and its app is unloaded");
		crf_log_exception();
		__atomic_store_n(&s->tstate, NULL, __ATOMIC_RELEASE);
		PyEval_SaveThread();
		return CRF_APP_ERROR;
	}
	s->in_request = 1;
	crf_calls++;
	crf_calls_begun++;
	environ = crf_environ(env, env_len);
	if (environ == NULL)
		goto fail;
	input = crf_input_new(s);
	if (input == NULL)
		goto fail;
	crf_input_begin(input, s, body, body_len, body_total);
	if (PyDict_SetItem(environ, crf_key_input, input) < 0)
		goto fail;
	sr = crf_responder(s, &s->start_response, 0);
	if (sr == NULL)
		goto fail;
	args[0] = environ;
	args[1] = sr;
	result = PyObject_Vectorcall(app, args, 2, NULL);
	crf_leave_if_forked(); /* the app forked, and this is its child */
	if (result == NULL)
		goto fail;
	crf_wait_io(s); /* so that head_sent is final */
	if (s->head_set && s->body_len == 0 && !s->head_sent &&
	    crf_file_fd(result, &s->file_fd, &s->file_off, &s->file_size)) {
		/* Looking at the file (tell()) may release the GIL, and a
		 * thread of the app's may write() meanwhile: then the head is
		 * out and the file goes the ordinary way, after what was
		 * written. Past this check the GIL is held until in_request is
		 * 0, so no write() can slip in before Go sends the file. */
		crf_wait_io(s);
		if (s->head_sent || s->body_len > 0) {
			close(s->file_fd);
		} else {
			file = result; /* sent and closed past done (crf_send_file) */
			result = NULL;
			goto done;
		}
	}
	if (crf_iterate(s, result) < 0) {
		crf_send_held(s);
		crf_close(result);
		goto fail;
	}
	rc = crf_close_held(s, result);
	if (rc == -2) /* the response could not be sent */
		goto fail;
	if (rc < 0) {
		if (!s->head_set)
			goto fail;
		crf_log_close_error();
	}
	rc = CRF_OK;
	if (!s->head_set) {
		PyErr_SetString(PyExc_RuntimeError,
				"the app returned without calling start_response");
		goto fail;
	}
	goto done;
fail:
	crf_leave_if_forked(); /* (before its error is logged as the worker's) */
	rc = s->output_failed ? CRF_OUTPUT_ERROR : CRF_APP_ERROR;
	/* A body read or a write that failed is the client's doing, which Go
	 * logs: the error raised for it goes unlogged (and what the app made
	 * of it: Django's UnreadablePostError is an OSError too). Another
	 * error the app raised after catching it is the app's own, and its
	 * traceback is logged, as uWSGI logs it: it was dropped. */
	if ((s->input_failed && PyErr_ExceptionMatches(crf_input_error())) ||
	    (s->output_failed && PyErr_ExceptionMatches(PyExc_OSError)))
		PyErr_Clear();
	else
		crf_log_exception();
done:
	crf_leave_if_forked();
	crf_wait_io(s); /* close() too may leave a thread writing */
	s->in_request = 0;
	crf_calls--;
	if (input != NULL)
		crf_input_end(input);
	Py_XDECREF(result);
	Py_XDECREF(environ);
	Py_XDECREF(app);
	crf_responder_end(&s->start_response);
	crf_responder_end(&s->write);
	PyEval_SaveThread();
	if (file != NULL)
		rc = crf_send_file(s, file);
	/* The next call on s may wait for the GIL on another OS thread:
	 * until it has it, harakiri must not dump this thread's stack,
	 * which may be running another slot's call by then. */
	__atomic_store_n(&s->tstate, NULL, __ATOMIC_RELEASE);
	return rc;
}
