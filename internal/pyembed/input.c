/*
 * wsgi.input: a file-like object that streams the request body from Go.
 * Bytes Go read ahead of the call arrive with it; the rest is pulled with
 * crfGoRead, with the GIL released. EOF is exactly at the body's end.
 */
#include "bridge.h"
#include "_cgo_export.h"

#include <stdlib.h>
#include <string.h>

#define CRF_INPUT_BUF (64 * 1024)

typedef struct {
	PyObject_HEAD
	crf_slot *slot;	 /* NULL when the request has ended */
	const char *win; /* unread bytes: Go's prefetch or our buf */
	Py_ssize_t win_len, win_pos;
	int64_t go_left; /* body bytes still to pull from Go */
	int64_t total;	 /* the body's length */
	const char *pre; /* Go's prefetch: the body's first pre_len bytes */
	Py_ssize_t pre_len;
	char *buf;  /* our read-ahead buffer, CRF_INPUT_BUF bytes */
	int failed; /* the body could not be read whole */
} crf_Input;

#define CRF_INPUT_INCOMPLETE "carafe: request body incomplete (client disconnected or timed out)"

/* crf_input_failed raises again the error that ended reading the body,
 * for every read after it: b"" would pass for the end of a shorter body
 * with an app that caught the first error. */
static int crf_input_failed(crf_Input *in)
{
	if (!in->failed)
		return 0;
	PyErr_SetString(crf_input_error(), CRF_INPUT_INCOMPLETE);
	return 1;
}

/* crf_pull reads up to n bytes from Go into dst, without the GIL. One
 * request's connection takes one call at a time: a second thread reading
 * the same input, or writing the response, while a read waits would have
 * Go use the connection from two threads at once, so it is refused. */
static Py_ssize_t crf_pull(crf_Input *in, char *dst, Py_ssize_t n)
{
	int got, was_app;

	if (in->slot->in_go) {
		PyErr_SetString(PyExc_RuntimeError, "carafe: wsgi.input read from another thread "
						    "while the request's I/O is in flight");
		return -1;
	}
	if (n > in->go_left)
		n = (Py_ssize_t)in->go_left;
	if (n > 1 << 30)
		n = 1 << 30;
	crf_leave_if_forked();
	in->slot->in_go = CRF_IN_GO_INPUT;
	Py_BEGIN_ALLOW_THREADS
	was_app = crf_in_app; /* (0 on a thread the app started) */
	crf_in_app = 0;	      /* Go's code (see crf_fatal) */
	got = crfGoRead(in->slot->index, dst, (int)n);
	crf_in_app = was_app;
	Py_END_ALLOW_THREADS
	in->slot->in_go = 0;
	if (got <= 0) {
		in->failed = 1;
		in->slot->input_failed = 1;
		in->total -= in->go_left; /* what came: tell() counts no byte that never did */
		in->go_left = 0;
		crf_input_failed(in);
		return -1;
	}
	in->go_left -= got;
	return got;
}

static int crf_refill(crf_Input *in)
{
	Py_ssize_t got;

	if (in->buf == NULL) {
		in->buf = malloc(CRF_INPUT_BUF);
		if (in->buf == NULL) {
			PyErr_NoMemory();
			return -1;
		}
	}
	got = crf_pull(in, in->buf, CRF_INPUT_BUF);
	if (got < 0)
		return -1;
	in->win = in->buf;
	in->win_len = got;
	in->win_pos = 0;
	return 0;
}

static int64_t crf_avail(crf_Input *in)
{
	if (in->slot == NULL)
		return 0;
	return (in->win_len - in->win_pos) + in->go_left;
}

/* CRF_READ_FIRST is the most a read allocates before the bytes are there
 * (besides those already read ahead): the bytes object then doubles as
 * they come. Allocating a body's whole Content-Length at once let a client
 * that sends a head claiming 1 GB and no body take 1 GB of address space
 * per request, which fails under strict overcommit or an address-space
 * limit. One 1 MiB upload is still one allocation. */
#define CRF_READ_FIRST (1024 * 1024)

/* crf_read_n returns exactly min(n, available) bytes. */
static PyObject *crf_read_n(crf_Input *in, int64_t n)
{
	PyObject *out;
	char *dst;
	Py_ssize_t have, take, got, size;
	int64_t avail = crf_avail(in);

	if (crf_input_failed(in))
		return NULL;
	if (n < 0 || n > avail)
		n = avail;
	if (n > PY_SSIZE_T_MAX)
		return PyErr_NoMemory();
	size = (Py_ssize_t)n;
	if (size - (in->win_len - in->win_pos) > CRF_READ_FIRST)
		size = (in->win_len - in->win_pos) + CRF_READ_FIRST;
	out = PyBytes_FromStringAndSize(NULL, size);
	if (out == NULL)
		return NULL;
	have = 0;
	while (have < n) {
		if (have == size || (in->win_pos == in->win_len && size - have < CRF_INPUT_BUF &&
				     n - have >= CRF_INPUT_BUF)) {
			/* Full, or too little room for a pull straight into it. */
			size = size > n / 2 ? (Py_ssize_t)n : size * 2;
			if (_PyBytes_Resize(&out, size) < 0)
				return NULL;
		}
		dst = PyBytes_AS_STRING(out);
		take = in->win_len - in->win_pos;
		if (take > 0) {
			if (take > size - have)
				take = size - have;
			memcpy(dst + have, in->win + in->win_pos, take);
			in->win_pos += take;
			have += take;
		} else if (size - have >= CRF_INPUT_BUF) {
			got = crf_pull(in, dst + have, size - have);
			if (got < 0)
				goto fail;
			have += got;
		} else if (crf_refill(in) < 0) {
			goto fail;
		}
	}
	return out;
fail:
	Py_DECREF(out);
	return NULL;
}

static PyObject *crf_size_arg(PyObject *args, int64_t *n)
{
	PyObject *o = Py_None;

	*n = -1;
	if (!PyArg_UnpackTuple(args, "read", 0, 1, &o))
		return NULL;
	if (o != Py_None) {
		*n = PyLong_AsLongLong(o);
		if (*n == -1 && PyErr_Occurred())
			return NULL;
	}
	return Py_None;
}

static PyObject *crf_input_read(PyObject *self, PyObject *args)
{
	int64_t n;

	if (crf_size_arg(args, &n) == NULL)
		return NULL;
	return crf_read_n((crf_Input *)self, n);
}

/* crf_readline returns one line including its \n, at most size bytes
 * (size < 0: no limit), or b"" at EOF. */
static PyObject *crf_readline(crf_Input *in, int64_t size)
{
	PyObject *out = NULL, *part;
	const char *start, *nl;
	Py_ssize_t take;
	int done = 0;

	if (crf_input_failed(in))
		return NULL;
	while (!done && size != 0) {
		if (in->win_pos >= in->win_len) {
			if (in->slot == NULL || in->go_left <= 0 || crf_refill(in) < 0)
				break;
		}
		start = in->win + in->win_pos;
		take = in->win_len - in->win_pos;
		if (size > 0 && take > size)
			take = (Py_ssize_t)size;
		nl = memchr(start, '\n', take);
		if (nl != NULL) {
			take = nl - start + 1;
			done = 1;
		}
		in->win_pos += take;
		if (size > 0)
			size -= take;
		part = PyBytes_FromStringAndSize(start, take);
		if (part == NULL)
			goto fail;
		if (out == NULL) {
			out = part;
		} else {
			PyBytes_ConcatAndDel(&out, part);
			if (out == NULL)
				return NULL;
		}
	}
	if (PyErr_Occurred())
		goto fail;
	return out != NULL ? out : PyBytes_FromStringAndSize(NULL, 0);
fail:
	Py_XDECREF(out);
	return NULL;
}

static PyObject *crf_input_readline(PyObject *self, PyObject *args)
{
	int64_t n;

	if (crf_size_arg(args, &n) == NULL)
		return NULL;
	return crf_readline((crf_Input *)self, n);
}

static PyObject *crf_input_readlines(PyObject *self, PyObject *args)
{
	PyObject *list = PyList_New(0), *line;
	int64_t hint, total = 0;

	if (list == NULL || crf_size_arg(args, &hint) == NULL)
		goto fail;
	for (;;) {
		line = crf_readline((crf_Input *)self, -1);
		if (line == NULL)
			goto fail;
		if (PyBytes_GET_SIZE(line) == 0) {
			Py_DECREF(line);
			break;
		}
		total += PyBytes_GET_SIZE(line);
		if (PyList_Append(list, line) < 0) {
			Py_DECREF(line);
			goto fail;
		}
		Py_DECREF(line);
		if (hint > 0 && total >= hint)
			break;
	}
	return list;
fail:
	Py_XDECREF(list);
	return NULL;
}

static PyObject *crf_input_next(PyObject *self)
{
	PyObject *line = crf_readline((crf_Input *)self, -1);

	if (line != NULL && PyBytes_GET_SIZE(line) == 0) {
		Py_DECREF(line);
		return NULL; /* StopIteration */
	}
	return line;
}

static PyObject *crf_input_tell(PyObject *self, PyObject *unused)
{
	crf_Input *in = (crf_Input *)self;

	return PyLong_FromLongLong(in->slot == NULL ? 0 : in->total - crf_avail(in));
}

/* crf_go_seek calls crfGoSeek as reads call crfGoRead: with the GIL
 * released, since no Go runs while this thread holds it (a Go call can
 * wait, for a collection or a free processor, and every Python thread
 * would wait with it). */
static int crf_go_seek(crf_Input *in, long long off)
{
	int rc, was_app;

	crf_leave_if_forked();
	in->slot->in_go = CRF_IN_GO_INPUT;
	Py_BEGIN_ALLOW_THREADS
	was_app = crf_in_app;
	crf_in_app = 0; /* Go's code (see crf_fatal) */
	rc = crfGoSeek(in->slot->index, off);
	crf_in_app = was_app;
	Py_END_ALLOW_THREADS
	in->slot->in_go = 0;
	return rc;
}

/* crf_seekable reports whether the body can be read again from any
 * offset: Go read it whole before the call, into its prefetch or a temp
 * file (a small or chunked body, or any with --post-buffering). Go's
 * answer comes from crfGoSeek with a negative offset, which moves nothing. */
static int crf_seekable(crf_Input *in)
{
	if (in->slot == NULL || in->pre_len == in->total)
		return 1;
	return !in->slot->in_go && crf_go_seek(in, -1) == 0;
}

static PyObject *crf_input_seekable(PyObject *self, PyObject *unused)
{
	return PyBool_FromLong(crf_seekable((crf_Input *)self));
}

/* seek(offset[, whence]) moves within a body Go read whole before the
 * call, as uWSGI's does under --post-buffering, for middleware that reads
 * the body and rewinds it for the app; past the end reads give b"". A body
 * that streams from the client raises OSError. */
static PyObject *crf_input_seek(PyObject *self, PyObject *args)
{
	crf_Input *in = (crf_Input *)self;
	long long off;
	int whence = 0;
	int64_t to;

	if (!PyArg_ParseTuple(args, "L|i:seek", &off, &whence))
		return NULL;
	if (crf_input_failed(in))
		return NULL;
	if (whence == 0)
		to = off;
	else if (whence == 1)
		to = (in->slot == NULL ? 0 : in->total - crf_avail(in)) + off;
	else if (whence == 2)
		to = in->total + off;
	else
		return PyErr_Format(PyExc_ValueError, "invalid whence (%d, should be 0, 1 or 2)",
				    whence);
	if (to < 0)
		return PyErr_Format(PyExc_ValueError, "negative seek position %lld", (long long)to);
	if (in->slot == NULL)
		return PyLong_FromLong(0);
	if (to > in->total)
		to = in->total;
	if (in->pre_len == in->total) {
		in->win = in->pre;
		in->win_len = in->pre_len;
		in->win_pos = (Py_ssize_t)to;
		in->go_left = 0;
		return PyLong_FromLongLong(to);
	}
	if (in->slot->in_go) {
		PyErr_SetString(PyExc_RuntimeError, "carafe: wsgi.input moved from another thread "
						    "while the request's I/O is in flight");
		return NULL;
	}
	/* Go's offset counts from the end of the prefetch. */
	if (crf_go_seek(in, to > in->pre_len ? to - in->pre_len : 0) != 0)
		return PyErr_Format(PyExc_OSError,
				    "carafe: wsgi.input cannot seek: the request body streams "
				    "from the client as the app reads it (--post-buffering "
				    "reads every body whole first)");
	in->win = in->pre;
	in->win_len = in->pre_len;
	in->win_pos = to < in->pre_len ? (Py_ssize_t)to : in->pre_len;
	in->go_left = in->total - (to > in->pre_len ? to : in->pre_len);
	return PyLong_FromLongLong(to);
}

static PyObject *crf_input_close(PyObject *self, PyObject *unused)
{
	Py_RETURN_NONE;
}

static void crf_input_dealloc(PyObject *self)
{
	free(((crf_Input *)self)->buf);
	Py_TYPE(self)->tp_free(self);
}

static PyMethodDef crf_input_methods[] = {
	{"read", crf_input_read, METH_VARARGS, "read([size]) -> bytes"},
	{"readline", crf_input_readline, METH_VARARGS, "readline([size]) -> bytes"},
	{"readlines", crf_input_readlines, METH_VARARGS, "readlines([hint]) -> list"},
	{"tell", crf_input_tell, METH_NOARGS, "tell() -> the offset in the body"},
	{"seek", crf_input_seek, METH_VARARGS, "seek(offset[, whence]) -> the new offset"},
	{"seekable", crf_input_seekable, METH_NOARGS, "seekable() -> whether seek() can move"},
	{"close", crf_input_close, METH_NOARGS, "no-op; the server owns the body"},
	{NULL, NULL, 0, NULL},
};

PyTypeObject crf_InputType = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "carafe.Input",
	.tp_basicsize = sizeof(crf_Input),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_dealloc = crf_input_dealloc,
	.tp_iter = PyObject_SelfIter,
	.tp_iternext = crf_input_next,
	.tp_methods = crf_input_methods,
};

/* crf_input_new returns the slot's input object (a borrowed reference),
 * reusing the last one unless the app kept a reference to it. */
PyObject *crf_input_new(crf_slot *s)
{
	crf_Input *in;

	if (s->input != NULL && Py_REFCNT(s->input) == 1)
		return s->input;
	Py_CLEAR(s->input);
	in = PyObject_New(crf_Input, &crf_InputType);
	if (in == NULL)
		return NULL;
	in->slot = NULL;
	in->buf = NULL;
	in->win = NULL;
	in->win_len = in->win_pos = 0;
	in->go_left = in->total = 0;
	in->pre = NULL;
	in->pre_len = 0;
	in->failed = 0;
	s->input = (PyObject *)in;
	return s->input;
}

void crf_input_begin(PyObject *self, crf_slot *s, const char *pre, Py_ssize_t pre_len,
		     int64_t total)
{
	crf_Input *in = (crf_Input *)self;

	in->slot = s;
	in->win = pre;
	in->win_len = pre_len;
	in->win_pos = 0;
	in->go_left = total - pre_len;
	in->total = total;
	in->pre = pre;
	in->pre_len = pre_len;
	in->failed = 0;
	s->input_failed = 0;
}

/* crf_input_end detaches the object from the request: Go's memory is no
 * longer referenced and later reads return b"". */
void crf_input_end(PyObject *self)
{
	crf_Input *in = (crf_Input *)self;

	in->slot = NULL;
	in->win = NULL;
	in->win_len = in->win_pos = 0;
	in->go_left = 0;
	in->total = in->pre_len = 0;
	in->pre = NULL;
}
