/*
 * wsgi.file_wrapper: iterates a file-like object in blocks and closes it
 * with the response.
 */
#include "bridge.h"

#include <fcntl.h>
#include <sys/stat.h>

typedef struct {
	PyObject_HEAD
	PyObject *filelike;
	Py_ssize_t blksize;
} crf_FileWrapper;

static int crf_fw_init(PyObject *self, PyObject *args, PyObject *kw)
{
	crf_FileWrapper *fw = (crf_FileWrapper *)self;
	PyObject *filelike;
	Py_ssize_t blksize = 8192;
	static char *names[] = {"filelike", "blksize", NULL};

	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|n:file_wrapper", names, &filelike, &blksize))
		return -1;
	if (blksize <= 0)
		blksize = 8192;
	Py_XSETREF(fw->filelike, Py_NewRef(filelike));
	fw->blksize = blksize;
	return 0;
}

static PyObject *crf_fw_next(PyObject *self)
{
	crf_FileWrapper *fw = (crf_FileWrapper *)self;
	PyObject *data;
	Py_ssize_t n;

	if (fw->filelike == NULL)
		return NULL;
	data = PyObject_CallMethod(fw->filelike, "read", "n", fw->blksize);
	if (data == NULL)
		return NULL;
	n = PyObject_Length(data);
	if (n <= 0) {
		/* n < 0: read() gave something without a length (None from a
		 * non-blocking file): its TypeError is raised, not left pending
		 * under a returned item. */
		Py_DECREF(data);
		return NULL; /* n == 0: StopIteration */
	}
	return data;
}

static PyObject *crf_fw_close(PyObject *self, PyObject *unused)
{
	crf_FileWrapper *fw = (crf_FileWrapper *)self;

	if (fw->filelike != NULL && PyObject_HasAttrString(fw->filelike, "close"))
		return PyObject_CallMethod(fw->filelike, "close", NULL);
	Py_RETURN_NONE;
}

/* io's FileIO, BufferedReader and BufferedRandom: the files whose read()
 * is known to give the file's own bytes; and BytesIO, whose read() never
 * waits (only compared with types). */
static PyObject *crf_io_fileio, *crf_io_reader, *crf_io_random, *crf_io_bytesio;

/* crf_file_wrapper_init readies the type and looks up io's file types. */
int crf_file_wrapper_init(void)
{
	PyObject *io;

	if (PyType_Ready(&crf_FileWrapperType) < 0)
		return -1;
	io = PyImport_ImportModule("io");
	if (io == NULL)
		return -1;
	crf_io_fileio = PyObject_GetAttrString(io, "FileIO");
	crf_io_reader = PyObject_GetAttrString(io, "BufferedReader");
	crf_io_random = PyObject_GetAttrString(io, "BufferedRandom");
	crf_io_bytesio = PyObject_GetAttrString(io, "BytesIO");
	Py_DECREF(io);
	return crf_io_fileio && crf_io_reader && crf_io_random && crf_io_bytesio ? 0 : -1;
}

/* crf_plain_file tells whether f's read() gives the file's own bytes, so
 * sendfile sends what iterating would: exactly io.FileIO, or a buffered
 * reader over one. Any other object (gzip.open's, a subclass that may
 * override read) has to be iterated; 1 yes, 0 no, -1 error. */
static int crf_plain_file(PyObject *f)
{
	PyObject *type = (PyObject *)Py_TYPE(f), *raw;
	int plain;

	if (type == crf_io_fileio)
		return 1;
	if (type != crf_io_reader && type != crf_io_random)
		return 0;
	raw = PyObject_GetAttrString(f, "raw");
	if (raw == NULL)
		return -1;
	plain = (PyObject *)Py_TYPE(raw) == crf_io_fileio;
	Py_DECREF(raw);
	return plain;
}

/* crf_regular_fd is the descriptor of f, a plain file (crf_plain_file)
 * open on a regular file, with its stat in *st; or -1 for any other f,
 * errors cleared. */
static int crf_regular_fd(PyObject *f, struct stat *st)
{
	PyObject *r;
	int n;

	if (crf_plain_file(f) != 1)
		goto fail;
	r = PyObject_CallMethod(f, "fileno", NULL);
	if (r == NULL)
		goto fail;
	n = (int)PyLong_AsLong(r);
	Py_DECREF(r);
	if (n < 0 || PyErr_Occurred() || fstat(n, st) < 0 || !S_ISREG(st->st_mode))
		goto fail;
	return n;
fail:
	PyErr_Clear();
	return -1;
}

/* crf_file_ready tells whether a response is a file_wrapper whose reads
 * never wait for data to come: over a BytesIO, or a plain regular file
 * (a pipe's or a socket's may wait, on a slow producer). */
int crf_file_ready(PyObject *result)
{
	crf_FileWrapper *fw = (crf_FileWrapper *)result;
	struct stat st;

	if (Py_TYPE(result) != &crf_FileWrapperType || fw->filelike == NULL)
		return 0;
	return (PyObject *)Py_TYPE(fw->filelike) == crf_io_bytesio ||
	       crf_regular_fd(fw->filelike, &st) >= 0;
}

/* crf_file_fd tells whether a response is a file_wrapper over a plain
 * regular file, so Go can send it with sendfile instead of iterating it:
 * *fd, a duplicate of its descriptor that Go closes (made at once, with
 * the GIL held: once it is released, as tell() may release it for its
 * lseek, another thread may close the file and its number name another),
 * the logical position *off (tell(), which accounts for Python's
 * buffering) and the file size *size. Errors are cleared: such a response
 * is iterated instead. */
int crf_file_fd(PyObject *result, int *fd, int64_t *off, int64_t *size)
{
	crf_FileWrapper *fw = (crf_FileWrapper *)result;
	PyObject *r = NULL;
	struct stat st;
	long long pos;
	int n;

	if (Py_TYPE(result) != &crf_FileWrapperType || fw->filelike == NULL)
		return 0;
	n = crf_regular_fd(fw->filelike, &st);
	if (n < 0)
		return 0;
	n = fcntl(n, F_DUPFD_CLOEXEC, 0);
	if (n < 0)
		goto fail;
	r = PyObject_CallMethod(fw->filelike, "tell", NULL);
	if (r == NULL)
		goto fail;
	pos = PyLong_AsLongLong(r);
	Py_CLEAR(r);
	if (pos < 0 || PyErr_Occurred())
		goto fail;
	*fd = n;
	*off = pos;
	*size = st.st_size;
	return 1;
fail:
	if (n >= 0)
		close(n);
	Py_XDECREF(r);
	PyErr_Clear();
	return 0;
}

/* The wrapped object may refer back to the wrapper (an app's file-like
 * object that keeps it): the wrapper takes part in the cycle collector,
 * or such a pair would never be freed. */
static int crf_fw_traverse(PyObject *self, visitproc visit, void *arg)
{
	Py_VISIT(((crf_FileWrapper *)self)->filelike);
	return 0;
}

static int crf_fw_clear(PyObject *self)
{
	Py_CLEAR(((crf_FileWrapper *)self)->filelike);
	return 0;
}

static void crf_fw_dealloc(PyObject *self)
{
	PyObject_GC_UnTrack(self);
	crf_fw_clear(self);
	Py_TYPE(self)->tp_free(self);
}

static PyMethodDef crf_fw_methods[] = {
	{"close", crf_fw_close, METH_NOARGS, "close the wrapped file"},
	{NULL, NULL, 0, NULL},
};

PyTypeObject crf_FileWrapperType = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "carafe.FileWrapper",
	.tp_basicsize = sizeof(crf_FileWrapper),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_traverse = crf_fw_traverse,
	.tp_clear = crf_fw_clear,
	.tp_new = PyType_GenericNew,
	.tp_free = PyObject_GC_Del,
	.tp_init = crf_fw_init,
	.tp_dealloc = crf_fw_dealloc,
	.tp_iter = PyObject_SelfIter,
	.tp_iternext = crf_fw_next,
	.tp_methods = crf_fw_methods,
};
