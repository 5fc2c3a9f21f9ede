/*
 * wsgi.file_wrapper: iterates a file-like object in blocks and closes it
 * with the response.
 */
#include "bridge.h"

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

	if (fw->filelike == NULL)
		return NULL;
	data = PyObject_CallMethod(fw->filelike, "read", "n", fw->blksize);
	if (data == NULL)
		return NULL;
	if (PyObject_Length(data) == 0) {
		if (PyErr_Occurred())
			PyErr_Clear();
		Py_DECREF(data);
		return NULL; /* StopIteration */
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

/* crf_file_fd tells whether a response is a file_wrapper over a regular
 * file with a descriptor, so Go can send it with sendfile instead of
 * iterating it: *fd, the logical position *off (tell(), which accounts
 * for Python's buffering) and the file size *size. Errors are cleared:
 * such a response is iterated instead. */
int crf_file_fd(PyObject *result, int *fd, int64_t *off, int64_t *size)
{
	crf_FileWrapper *fw = (crf_FileWrapper *)result;
	PyObject *r = NULL;
	struct stat st;
	long long pos;

	if (Py_TYPE(result) != &crf_FileWrapperType || fw->filelike == NULL)
		return 0;
	r = PyObject_CallMethod(fw->filelike, "fileno", NULL);
	if (r == NULL)
		goto fail;
	*fd = (int)PyLong_AsLong(r);
	Py_CLEAR(r);
	if (*fd < 0 || PyErr_Occurred() || fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto fail;
	r = PyObject_CallMethod(fw->filelike, "tell", NULL);
	if (r == NULL)
		goto fail;
	pos = PyLong_AsLongLong(r);
	Py_CLEAR(r);
	if (pos < 0 || PyErr_Occurred())
		goto fail;
	*off = pos;
	*size = st.st_size;
	return 1;
fail:
	Py_XDECREF(r);
	PyErr_Clear();
	return 0;
}

static void crf_fw_dealloc(PyObject *self)
{
	Py_XDECREF(((crf_FileWrapper *)self)->filelike);
	Py_TYPE(self)->tp_free(self);
}

static PyMethodDef crf_fw_methods[] = {
	{"close", crf_fw_close, METH_NOARGS, "close the wrapped file"},
	{NULL, NULL, 0, NULL},
};

PyTypeObject crf_FileWrapperType = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "carafe.FileWrapper",
	.tp_basicsize = sizeof(crf_FileWrapper),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_new = PyType_GenericNew,
	.tp_init = crf_fw_init,
	.tp_dealloc = crf_fw_dealloc,
	.tp_iter = PyObject_SelfIter,
	.tp_iternext = crf_fw_next,
	.tp_methods = crf_fw_methods,
};
