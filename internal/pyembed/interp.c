/*
 * Interpreter set-up: PyConfig, sys.path, loading the app, thread states.
 * Runs once per worker, before any request.
 */
#include "bridge.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

PyObject *crf_app;	    /* the WSGI callable */
PyObject *crf_env_template; /* constant environ entries, copied per request */
PyObject **crf_keys;	    /* interned environ keys, indexed as Go numbers them */
int crf_nkeys;
PyObject *crf_key_input, *crf_str_close;
PyObject *crf_print_exception; /* traceback.print_exception */

static PyThreadState *crf_main_tstate;

static char *crf_strdup_err(const char *prefix, const char *msg)
{
	size_t n = strlen(prefix) + strlen(msg) + 1;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s%s", prefix, msg);
	return s;
}

/* crf_format_exception turns the pending Python exception into a malloc'd
 * traceback text and clears it. */
static char *crf_format_exception(void)
{
	PyObject *type, *value, *tb, *mod = NULL, *fn = NULL, *lines = NULL, *sep = NULL,
				     *text = NULL;
	char *out = NULL;
	const char *utf8;

	PyErr_Fetch(&type, &value, &tb);
	if (type == NULL)
		return crf_strdup_err("", "unknown error");
	PyErr_NormalizeException(&type, &value, &tb);
	if (tb != NULL && value != NULL)
		PyException_SetTraceback(value, tb);
	mod = PyImport_ImportModule("traceback");
	if (mod == NULL)
		goto fail;
	fn = PyObject_GetAttrString(mod, "format_exception");
	if (fn == NULL)
		goto fail;
	lines = PyObject_CallFunctionObjArgs(fn, value, NULL);
	if (lines == NULL)
		goto fail;
	sep = PyUnicode_FromString("");
	if (sep == NULL)
		goto fail;
	text = PyUnicode_Join(sep, lines);
	if (text == NULL)
		goto fail;
	utf8 = PyUnicode_AsUTF8(text);
	if (utf8 != NULL)
		out = crf_strdup_err("", utf8);
fail:
	if (out == NULL) {
		PyErr_Clear();
		out = crf_strdup_err("", "error (the traceback could not be formatted)");
	}
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	Py_XDECREF(mod);
	Py_XDECREF(fn);
	Py_XDECREF(lines);
	Py_XDECREF(sep);
	Py_XDECREF(text);
	return out;
}

/* crf_line_buffered makes sys.NAME write whole lines: one write(2) when
 * a line ends (or at a flush, or past the wrapper's 8 KiB), none for a
 * piece of one. Write-through, as PYTHONUNBUFFERED makes it,
 * print("a", "b") was four writes, and a line the app wrote in pieces had
 * carafe's own log lines (the access line, written by Go at any moment)
 * land inside it. Block-buffered, as a plain python on a pipe is, a print
 * would wait for 8 KiB of others before reaching the log. A stream that
 * cannot be reconfigured is left as it is. */
static void crf_line_buffered(const char *name)
{
	PyObject *f = PySys_GetObject(name); /* borrowed */
	PyObject *meth, *args, *kw, *res = NULL;

	if (f == NULL || f == Py_None)
		return;
	meth = PyObject_GetAttrString(f, "reconfigure");
	if (meth == NULL) {
		PyErr_Clear();
		return;
	}
	args = PyTuple_New(0);
	kw = Py_BuildValue("{s:O,s:O}", "line_buffering", Py_True, "write_through", Py_False);
	if (args != NULL && kw != NULL)
		res = PyObject_Call(meth, args, kw);
	if (res == NULL)
		PyErr_Clear();
	Py_XDECREF(res);
	Py_XDECREF(kw);
	Py_XDECREF(args);
	Py_DECREF(meth);
}

/* crf_flush_std writes out what sys.stdout and sys.stderr hold back: a
 * piece of a line (see crf_line_buffered). Before os._exit, os.fork and
 * the exit of a failed import, which would lose it, or (fork) have the
 * child write it a second time. Keeps any exception set. GIL held. */
static void crf_flush_std(void)
{
	static const char *const names[] = {"stdout", "stderr"};
	PyObject *type, *value, *tb, *f, *res;
	size_t i;

	PyErr_Fetch(&type, &value, &tb);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		f = PySys_GetObject(names[i]); /* borrowed */
		if (f == NULL || f == Py_None)
			continue;
		res = PyObject_CallMethod(f, "flush", NULL);
		if (res == NULL)
			PyErr_Clear();
		Py_XDECREF(res);
	}
	PyErr_Restore(type, value, tb);
}

static PyObject *crf_flush_std_py(PyObject *self, PyObject *unused)
{
	crf_flush_std();
	Py_RETURN_NONE;
}

static PyMethodDef crf_flush_std_def = {"_carafe_flush_std", crf_flush_std_py, METH_NOARGS, NULL};

/* crf_flush_before_fork has os.fork flush the standard streams first, as
 * multiprocessing does. Left out if it cannot be. */
static void crf_flush_before_fork(void)
{
	PyObject *os, *reg = NULL, *fn = NULL, *args = NULL, *kw = NULL, *res = NULL;

	os = PyImport_ImportModule("os");
	if (os != NULL)
		reg = PyObject_GetAttrString(os, "register_at_fork");
	if (reg != NULL)
		fn = PyCFunction_New(&crf_flush_std_def, NULL);
	if (fn != NULL) {
		args = PyTuple_New(0);
		kw = Py_BuildValue("{s:O}", "before", fn);
	}
	if (args != NULL && kw != NULL)
		res = PyObject_Call(reg, args, kw);
	if (res == NULL)
		PyErr_Clear();
	Py_XDECREF(res);
	Py_XDECREF(kw);
	Py_XDECREF(args);
	Py_XDECREF(fn);
	Py_XDECREF(reg);
	Py_XDECREF(os);
}

/* crf_init starts the interpreter without Python's signal handlers (Go owns
 * signals). executable is the python whose prefix to use: a venv's
 * bin/python makes the venv's packages importable and sys.prefix point at
 * it, as a python started from there would. args holds sys.argv, nargs
 * strings each ended by a NUL. */
int crf_init(const char *executable, const char *home, const char *args, int nargs, int optimize, char **err)
{
	PyStatus st;
	PyConfig config;
	PyObject *mod;
	char **argv;
	int i;

	PyConfig_InitPythonConfig(&config);
	config.install_signal_handlers = 0;
	config.parse_argv = 0;
	/* Unbuffered below the text layer: C's stdio (a C extension's puts
	 * shows at once, and before a failed import's error) and
	 * sys.stdout.buffer write at once, and no BufferedWriter lock is left
	 * held by a daemon thread stopped inside write(2), which made
	 * Py_FinalizeEx abort ("_enter_buffered_busy"). The text layer
	 * gathers whole lines (crf_line_buffered). */
	config.buffered_stdio = 0;
	/* --optimize, as uWSGI's sets it: this interpreter's alone, where
	 * PYTHONOPTIMIZE would reach the Python programs the app starts. */
	if (optimize > 0)
		config.optimization_level = optimize;
	argv = malloc(sizeof(char *) * (size_t)nargs);
	if (argv == NULL) {
		st = PyStatus_NoMemory();
		goto fail;
	}
	for (i = 0; i < nargs; i++) {
		argv[i] = (char *)args;
		args += strlen(args) + 1;
	}
	st = PyConfig_SetBytesArgv(&config, nargs, argv);
	free(argv);
	if (PyStatus_Exception(st))
		goto fail;
	if (executable != NULL && executable[0] != '\0') {
		st = PyConfig_SetBytesString(&config, &config.program_name, executable);
		if (PyStatus_Exception(st))
			goto fail;
		st = PyConfig_SetBytesString(&config, &config.executable, executable);
		if (PyStatus_Exception(st))
			goto fail;
	}
	if (home != NULL && home[0] != '\0') {
		st = PyConfig_SetBytesString(&config, &config.home, home);
		if (PyStatus_Exception(st))
			goto fail;
	}
	st = Py_InitializeFromConfig(&config);
	if (PyStatus_Exception(st))
		goto fail;
	PyConfig_Clear(&config);
	/* threading takes the thread that first imports it for the main
	 * thread, whose end Py_FinalizeEx waits for: imported first by a
	 * request (an app that imports it lazily, or logging), that would
	 * be a Python thread of carafe's, which never ends, and every stop
	 * would wait out its whole mercy. mod_wsgi imports it early too. */
	mod = PyImport_ImportModule("threading");
	if (mod == NULL) {
		*err = crf_format_exception();
		return -1;
	}
	Py_DECREF(mod);
	crf_line_buffered("stdout");
	crf_line_buffered("stderr");
	crf_flush_before_fork();
	return 0;
fail:
	PyConfig_Clear(&config);
	*err = crf_strdup_err("python initialisation failed: ",
			      st.err_msg != NULL ? st.err_msg : "unknown error");
	return -1;
}

static const char crf_loader_src[] =
	"def _carafe_load_paste(uri, logged):\n"
	"    import os\n"
	"    if logged:\n"
	"        import configparser, logging.config\n"
	"        path = os.path.abspath(uri.split(':', 1)[1].split('#', 1)[0])\n"
	"        ini = configparser.ConfigParser()\n"
	"        ini.read(path)\n"
	"        if ini.has_section('loggers'):\n"
	"            logging.config.fileConfig(path, {'__file__': path, 'here': "
	"os.path.dirname(path)},\n"
	"                                      disable_existing_loggers=False)\n"
	"    from paste.deploy import loadapp\n"
	"    return loadapp(uri, relative_to=os.getcwd())\n"
	"def _carafe_is_asgi(app):\n"
	"    try:\n"
	"        import functools, inspect\n"
	"        while isinstance(app, functools.partial):\n"
	"            app = app.func\n"
	"        def asynchronous(f):\n"
	"            return inspect.iscoroutinefunction(f) or inspect.isasyncgenfunction(f)\n"
	"        return asynchronous(app) or not (inspect.isfunction(app) or inspect.ismethod(app)) \\\n"
	"            and asynchronous(getattr(type(app), '__call__', None))\n"
	"    except Exception:\n"
	"        return False  # a hint only: the app's own errors come at its call\n"
	"def _carafe_load_file(path):\n"
	"    import importlib.machinery, importlib.util, sys, hashlib\n"
	"    name = '_carafe_wsgi_' + hashlib.sha1(path.encode()).hexdigest()[:12]\n"
	"    spec = importlib.util.spec_from_file_location(name, path,\n"
	"        loader=importlib.machinery.SourceFileLoader(name, path))\n"
	"    mod = importlib.util.module_from_spec(spec)\n"
	"    sys.modules[name] = mod\n"
	"    spec.loader.exec_module(mod)\n"
	"    return mod\n"
	"def _carafe_finalize_begin(mark):\n"
	"    import atexit, sys\n"
	"    atexit.register(mark)\n"
	"    threading = sys.modules.get('threading')\n"
	"    if threading is None:\n"
	"        return ''\n"
	"    main = threading.main_thread()\n"
	"    dummy = getattr(threading, '_DummyThread', ())\n"
	"    return '\\n'.join('%d %s' % (t.native_id, t.name) for t in threading.enumerate()\n"
	"                     if t is not main and not t.daemon and t.is_alive()\n"
	"                     and not isinstance(t, dummy))\n"
	"def _carafe_thread_begin(_n=__import__('itertools').count(1)):\n"
	"    import os, sys, threading\n"
	"    t = threading.current_thread()\n"
	"    if isinstance(t, getattr(threading, '_DummyThread', ())):\n"
	"        w = os.environ.get('CARAFE_WORKER_ID')\n"
	"        t.name = 'carafe-%sthread%d' % ('worker%s-' % w if w else '', next(_n))\n"
	"        if hasattr(t, '_daemonic'):\n"
	"            t._daemonic = False\n"
	"    if getattr(threading, '_trace_hook', None) is not None:\n"
	"        sys.settrace(threading._trace_hook)\n"
	"    if getattr(threading, '_profile_hook', None) is not None:\n"
	"        sys.setprofile(threading._profile_hook)\n"
	"def _carafe_green_patch():\n"
	"    import sys\n"
	"    for lib, mod, ask, name in (('gevent', 'gevent.monkey', 'is_module_patched', 'threading'),\n"
	"                                ('eventlet', 'eventlet.patcher', 'is_monkey_patched', 'thread')):\n"
	"        try:\n"
	"            if getattr(sys.modules.get(mod), ask)(name):\n"
	"                return lib\n"
	"        except Exception:\n"
	"            pass\n"
	"    return ''\n"
	"def _carafe_disconnect_type():\n"
	"    import sys\n"
	"    exc = sys.modules.get('werkzeug.exceptions')\n"
	"    base = getattr(exc, 'ClientDisconnected', None)\n"
	"    http = getattr(exc, 'HTTPException', None)\n"
	"    if not (isinstance(base, type) and isinstance(http, type) and issubclass(base, http)\n"
	"            and issubclass(http, Exception)):\n"
	"        return None\n"
	"    class ClientDisconnectedError(OSError, base):\n"
	"        def __init__(self, *args):\n"
	"            OSError.__init__(self, *args)\n"
	"            self.response = None\n"
	"    ClientDisconnectedError.__module__ = 'carafe'\n"
	"    return ClientDisconnectedError\n";

/* crf_loader returns the function name of crf_loader_src. */
static PyObject *crf_loader(const char *name)
{
	PyObject *globals, *res = NULL, *fn = NULL;

	globals = PyDict_New();
	if (globals == NULL)
		return NULL;
	if (PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0)
		goto fail;
	res = PyRun_String(crf_loader_src, Py_file_input, globals, globals);
	if (res == NULL)
		goto fail;
	fn = PyDict_GetItemString(globals, name);
	if (fn == NULL)
		PyErr_Format(PyExc_SystemError, "carafe: no %s", name);
	Py_XINCREF(fn);
fail:
	Py_DECREF(globals);
	Py_XDECREF(res);
	return fn;
}

/* crf_input_error is the exception a read of a request body cut short
 * raises (the client left, or stalled past the timeout): an OSError, as
 * PEP 3333 has it and Django expects (UnreadablePostError), and, once the
 * app has imported Werkzeug, its ClientDisconnected too. carafe says the
 * body ends where it does (wsgi.input_terminated), so Werkzeug reads the
 * stream without the length check that would raise that itself, and
 * Flask logged every dropped upload as an error and answered 500 (uWSGI's
 * short read gave a quiet 400). Returns a borrowed reference; the GIL is
 * held. */
PyObject *crf_input_error(void)
{
	static PyObject *type;
	PyObject *fn, *t;

	if (type != NULL)
		return type;
	if (PyDict_GetItemString(PyImport_GetModuleDict(), "werkzeug.exceptions") == NULL)
		return PyExc_OSError;
	fn = crf_loader("_carafe_disconnect_type");
	t = fn != NULL ? PyObject_CallNoArgs(fn) : NULL;
	Py_XDECREF(fn);
	if (t == NULL || t == Py_None) {
		PyErr_Clear();
		Py_XDECREF(t);
		return PyExc_OSError;
	}
	if (type != NULL) /* another thread made one meanwhile (the GIL went) */
		Py_DECREF(t);
	else
		type = t;
	return type;
}

/* crf_run_loader calls the function name of crf_loader_src with (arg) or,
 * when flag >= 0, (arg, flag). */
static PyObject *crf_run_loader(const char *name, const char *arg, int flag)
{
	PyObject *fn = crf_loader(name), *mod;

	if (fn == NULL)
		return NULL;
	if (flag >= 0)
		mod = PyObject_CallFunction(fn, "si", arg, flag);
	else
		mod = PyObject_CallFunction(fn, "s", arg);
	Py_DECREF(fn);
	return mod;
}

/* crf_import_file imports a script file as a module of its own. */
static PyObject *crf_import_file(const char *path)
{
	return crf_run_loader("_carafe_load_file", path, -1);
}

/* crf_prepend_paths puts every entry of the newline-separated pythonpath
 * at the front of sys.path, each before those given ahead of it, as uWSGI
 * and Gunicorn put theirs (a module in two of them is the last one's),
 * then cwd. */
static int crf_prepend_paths(const char *pythonpath)
{
	PyObject *path = PySys_GetObject("path"); /* borrowed */
	PyObject *item;
	const char *p = pythonpath, *nl;
	Py_ssize_t at = 0;
	char cwd[4096];

	if (path == NULL || !PyList_Check(path)) {
		PyErr_SetString(PyExc_RuntimeError, "sys.path is not a list");
		return -1;
	}
	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		item = PyUnicode_DecodeFSDefaultAndSize(p, nl ? nl - p : (Py_ssize_t)strlen(p));
		if (item == NULL || PyList_Insert(path, 0, item) < 0) {
			Py_XDECREF(item);
			return -1;
		}
		Py_DECREF(item);
		at++;
		p = nl ? nl + 1 : NULL;
	}
	if (getcwd(cwd, sizeof cwd) == NULL)
		return 0;
	item = PyUnicode_DecodeFSDefault(cwd);
	if (item == NULL || PyList_Insert(path, at, item) < 0) {
		Py_XDECREF(item);
		return -1;
	}
	Py_DECREF(item);
	return 0;
}

/* crf_intern_keys interns the environ key names Go numbers: keys holds
 * them NUL-terminated, back to back. */
static int crf_intern_keys(const char *keys, Py_ssize_t len)
{
	Py_ssize_t i, n = 0;
	const char *p;

	for (i = 0; i < len; i++)
		if (keys[i] == '\0')
			n++;
	crf_keys = calloc(n, sizeof(PyObject *));
	if (crf_keys == NULL) {
		PyErr_NoMemory();
		return -1;
	}
	for (p = keys, i = 0; i < n; i++) {
		crf_keys[i] = PyUnicode_InternFromString(p);
		if (crf_keys[i] == NULL)
			return -1;
		p += strlen(p) + 1;
	}
	crf_nkeys = (int)n;
	crf_key_input = PyUnicode_InternFromString("wsgi.input");
	crf_str_close = PyUnicode_InternFromString("close");
	return crf_key_input == NULL || crf_str_close == NULL ? -1 : 0;
}

static int crf_build_template(int threads, int processes, const char *software)
{
	PyObject *d = PyDict_New(), *v;
	PyObject *err = PySys_GetObject("stderr"); /* borrowed */

	if (d == NULL)
		return -1;
	v = Py_BuildValue("(ii)", 1, 0);
	if (v == NULL || PyDict_SetItemString(d, "wsgi.version", v) < 0)
		goto fail;
	Py_DECREF(v);
	v = NULL;
	if (PyDict_SetItemString(d, "wsgi.multithread", threads > 1 ? Py_True : Py_False) < 0 ||
	    PyDict_SetItemString(d, "wsgi.multiprocess", processes > 1 ? Py_True : Py_False) < 0 ||
	    PyDict_SetItemString(d, "wsgi.run_once", Py_False) < 0 ||
	    PyDict_SetItemString(d, "wsgi.input_terminated", Py_True) < 0 ||
	    PyDict_SetItemString(d, "wsgi.errors", err != NULL ? err : Py_None) < 0 ||
	    PyDict_SetItemString(d, "wsgi.file_wrapper", (PyObject *)&crf_FileWrapperType) < 0)
		goto fail;
	v = PyUnicode_FromString("");
	if (v == NULL || PyDict_SetItemString(d, "SCRIPT_NAME", v) < 0)
		goto fail;
	Py_DECREF(v);
	v = PyUnicode_FromString(software);
	if (v == NULL || PyDict_SetItemString(d, "SERVER_SOFTWARE", v) < 0)
		goto fail;
	Py_DECREF(v);
	crf_env_template = d;
	return 0;
fail:
	Py_XDECREF(v);
	Py_DECREF(d);
	return -1;
}

/* crf_refuse_asgi fails for an ASGI app (an async callable, FastAPI's,
 * Starlette's, Django's asgi.application), which the WSGI call would only
 * turn into a 500 for every request. */
static int crf_refuse_asgi(PyObject *app, const char *what)
{
	PyObject *fn = crf_loader("_carafe_is_asgi"), *res;
	int asgi;

	if (fn == NULL)
		return -1;
	res = PyObject_CallOneArg(fn, app);
	Py_DECREF(fn);
	if (res == NULL)
		return -1;
	asgi = PyObject_IsTrue(res);
	Py_DECREF(res);
	if (asgi > 0)
		PyErr_Format(PyExc_TypeError,
			     "%s: the app is an ASGI app (an async callable taking scope, receive "
			     "and send); carafe serves WSGI apps: give it the project's WSGI app "
			     "(Django's wsgi.py, not asgi.py), or run an ASGI app under an ASGI server",
			     what);
	return asgi != 0 ? -1 : 0;
}

static PyObject *crf_find_callable(PyObject *mod, const char *callable, const char *what)
{
	PyObject *app;
	size_t n = callable != NULL ? strlen(callable) : 0;

	if (n > 2 && strcmp(callable + n - 2, "()") == 0) {
		/* An application factory (module = app:create_app()), called
		 * once without arguments, as uWSGI and Gunicorn call it. */
		PyObject *name = PyUnicode_FromStringAndSize(callable, (Py_ssize_t)(n - 2));
		PyObject *factory;

		if (name == NULL) {
			return NULL;
		}
		factory = PyObject_GetAttr(mod, name);
		if (factory == NULL) {
			PyErr_Format(PyExc_LookupError, "%s has no factory named '%U'", what, name);
			Py_DECREF(name);
			return NULL;
		}
		Py_DECREF(name);
		app = PyObject_CallNoArgs(factory);
		Py_DECREF(factory);
		if (app == NULL) {
			return NULL; /* the factory's own error, with its traceback */
		}
	} else if (n > 0) {
		app = PyObject_GetAttrString(mod, callable);
		if (app == NULL) {
			PyErr_Format(PyExc_LookupError, "%s has no callable named '%s'", what,
				     callable);
			return NULL;
		}
	} else {
		app = PyObject_GetAttrString(mod, "application");
		if (app == NULL) {
			PyErr_Clear();
			app = PyObject_GetAttrString(mod, "app");
		}
		if (app == NULL) {
			PyErr_Format(PyExc_LookupError,
				     "%s defines neither 'application' nor 'app' "
				     "(name the callable with --callable)",
				     what);
			return NULL;
		}
	}
	if (!PyCallable_Check(app)) {
		PyErr_Format(PyExc_TypeError, "%s: '%s' is not callable (it is a %s)%s", what,
			     n > 0 ? callable : "application", Py_TYPE(app)->tp_name,
			     n > 2 && strcmp(callable + n - 2, "()") == 0 ? ": the factory returned it" : "");
		Py_DECREF(app);
		return NULL;
	}
	if (crf_refuse_asgi(app, what) < 0) {
		Py_DECREF(app);
		return NULL;
	}
	return app;
}

/* crf_preimport imports each entry of the newline-separated imports, in
 * order (uWSGI's import option): one holding a '/' or ending in .py as a
 * file, any other as a module. */
static int crf_preimport(const char *imports)
{
	const char *p = imports, *nl;
	char name[4096];
	size_t n;
	PyObject *mod;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (n >= sizeof name) {
			PyErr_Format(PyExc_ValueError, "import: name too long: %.100s...", p);
			return -1;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		if (strchr(name, '/') != NULL || (n > 3 && strcmp(name + n - 3, ".py") == 0))
			mod = crf_import_file(name);
		else
			mod = PyImport_ImportModule(name);
		if (mod == NULL)
			return -1;
		Py_DECREF(mod);
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

/* The signals a worker's Go side handles (see internal/worker), and those
 * the Go runtime itself needs (SIGURG preempts goroutines; SIGPIPE is
 * sorted between its own sockets and the app's). The app may not take
 * them: Python runs a handler only on the main thread, and only when it
 * next runs Python (a call, with --threads 1; else the stop), so an app's
 * handler would run late or never, and carafe would lose its stop and
 * reload. */
static const int crf_kept_signals[] = {
	/* the worker's */
	SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGTTIN, SIGTTOU,
	/* the Go runtime's */
	SIGURG, SIGPIPE};
#define CRF_KEPT_SIGNALS (int)(sizeof crf_kept_signals / sizeof crf_kept_signals[0])
static struct sigaction crf_kept_actions[CRF_KEPT_SIGNALS];

static struct sigaction crf_saved_actions[NSIG]; /* every signal's, before the app loads */

/* The Go runtime's signal handler, every signal's it handles. */
static void (*crf_go_handler)(int, siginfo_t *, void *);

/* Set in the child of a fork by the app (crf_after_fork_child). */
static volatile sig_atomic_t crf_forked;

/* crf_leave_if_forked ends a process the app forked that has come back
 * into carafe: a child that returned from the view (or raised out of it)
 * instead of ending with os._exit. It has a copy of the worker's
 * connections and listening sockets, and no Go runtime left to run them:
 * it would answer the request a second time, hang other clients on the
 * sockets it shares, outlive the worker on its port, and run the
 * response's close() (Django's closes the database connection it shares
 * with the worker). Called where the app's call returns to carafe, before
 * every call from C into Go, and before crf_run returns to Go. The child
 * exits as python3 would: SystemExit's code, or 1 after its traceback. */
void crf_leave_if_forked(void)
{
	PyObject *type, *value, *tb, *code;
	char msg[160];
	int status = 1, n;

	if (!crf_forked)
		return;
	if (PyGILState_Check() && PyErr_Occurred()) {
		if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
			PyErr_Fetch(&type, &value, &tb);
			PyErr_NormalizeException(&type, &value, &tb);
			code = value != NULL ? PyObject_GetAttrString(value, "code") : NULL;
			if (code == Py_None)
				status = 0;
			else if (code != NULL && PyLong_Check(code))
				status = (int)(PyLong_AsLong(code) & 0xff);
			PyErr_Clear();
			Py_XDECREF(code);
			Py_XDECREF(type);
			Py_XDECREF(value);
			Py_XDECREF(tb);
		} else {
			PyErr_Print(); /* the child's traceback, to its sys.stderr */
		}
	}
	n = snprintf(msg, sizeof msg,
		     "carafe: a process the app forked (pid %d) came back into the server instead "
		     "of ending with os._exit(); it exits (%d)\n",
		     (int)getpid(), status);
	if (n > 0 && write(2, msg, (size_t)n) < 0) {
		/* nowhere to say it */
	}
	_exit(status);
}

/* The worker's listening sockets (crf_fork_closes), which a fork's child
 * closes: one that outlives the worker (a daemon the view started, a
 * multiprocessing pool's process) would hold its port, and the next
 * carafe could not bind it. */
#define CRF_FORK_CLOSES_MAX 64
static int crf_listen_fds[CRF_FORK_CLOSES_MAX];
static int crf_listen_nfds;

/* crf_fork_closes has a fork's child close fd, one of the worker's
 * listening sockets. */
void crf_fork_closes(int fd)
{
	if (crf_listen_nfds < CRF_FORK_CLOSES_MAX)
		crf_listen_fds[crf_listen_nfds++] = fd;
}

/* crf_close_listeners closes, in a fork's child, the worker's listening
 * sockets: each fd given that is still a listening socket (one the worker
 * closed may have been reused for something the child needs). */
static void crf_close_listeners(void)
{
	int on;
	socklen_t len;

	for (int i = 0; i < crf_listen_nfds; i++) {
		on = 0;
		len = sizeof on;
		if (getsockopt(crf_listen_fds[i], SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on)
			close(crf_listen_fds[i]);
	}
}

/* The forking thread's signal mask, saved by crf_before_fork: every
 * signal stays blocked across the fork until crf_after_fork_child has
 * given the child its default actions. A signal sent to a child just
 * forked (Pool.terminate() of a worker it started, a kill right after
 * os.fork()) was taken by Go's handler, which has no runtime in the child
 * to act on it, and lost: 90 of 100 children sent SIGTERM at once lived
 * on. Go's own fork blocks them the same way. */
static __thread sigset_t crf_fork_mask;

static void crf_before_fork(void)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &crf_fork_mask);
}

static void crf_after_fork_parent(void)
{
	pthread_sigmask(SIG_SETMASK, &crf_fork_mask, NULL);
}

static void crf_reset_forked_actions(void);

/* crf_after_fork_child runs in the child of a fork by the app (os.fork,
 * multiprocessing's default "fork" start method, ProcessPoolExecutor),
 * whose one thread runs Python: the Go runtime is not there to run Go's
 * signal handler, which would take the signal as the worker's (SIGTERM:
 * a graceful stop) and let the child run on. multiprocessing ends a
 * Pool's workers with SIGTERM, and a Pool's exit then waited for them for
 * good. The child gets what a child of python3 gets: each signal Go
 * handles back to its default, SIGPIPE and SIGXFSZ ignored (as Python
 * sets them at start-up). Handlers set since (faulthandler's) stay. The
 * worker's listening sockets are closed (crf_close_listeners).
 * Async-signal-safe, as a fork's child handler must be. */
static void crf_after_fork_child(void)
{
	crf_forked = 1;
	crf_close_listeners();
	crf_reset_forked_actions();
	pthread_sigmask(SIG_SETMASK, &crf_fork_mask, NULL); /* a signal already sent is taken now */
}

static void crf_reset_forked_actions(void)
{
	struct sigaction now, dfl;

	if (crf_go_handler == NULL)
		return;
	memset(&dfl, 0, sizeof dfl);
	sigemptyset(&dfl.sa_mask);
	for (int sig = 1; sig < NSIG; sig++) {
		if (sigaction(sig, NULL, &now) != 0 || !(now.sa_flags & SA_SIGINFO) ||
		    (now.sa_sigaction != crf_go_handler && !crf_fatal_is_ours(&now)))
			continue;
		dfl.sa_handler = (sig == SIGPIPE || sig == SIGXFSZ) ? SIG_IGN : SIG_DFL;
		sigaction(sig, &dfl, NULL);
	}
}

/* crf_signals_save records the actions of the kept signals, and of every
 * other signal (see crf_signals_forget), and has a fork's child given
 * back the default actions of those Go handles (crf_after_fork_child). */
void crf_signals_save(void)
{
	static int atfork;
	/* Signals whose default is to be ignored, which Go's handler catches:
	 * a child's exit (SIGCHLD), a terminal's resize (SIGWINCH). Caught, each
	 * interrupted the app's waits in C (EINTR from poll, usleep: SQLite's
	 * busy wait ended early); ignored, as under python, they interrupt
	 * nothing. Go needs neither (carafe asks for no notice of them). */
	static const int ignored[] = {SIGCHLD, SIGWINCH};
	struct sigaction cur, dfl;

	memset(&dfl, 0, sizeof dfl);
	sigemptyset(&dfl.sa_mask);
	dfl.sa_handler = SIG_DFL;
	for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
		if (sigaction(ignored[i], NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO))
			sigaction(ignored[i], &dfl, NULL);

	for (int i = 0; i < CRF_KEPT_SIGNALS; i++)
		sigaction(crf_kept_signals[i], NULL, &crf_kept_actions[i]);
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, NULL, &crf_saved_actions[sig]);
	if (crf_saved_actions[SIGURG].sa_flags & SA_SIGINFO) /* SIGURG is Go's own */
		crf_go_handler = crf_saved_actions[SIGURG].sa_sigaction;
	if (!atfork && pthread_atfork(crf_before_fork, crf_after_fork_parent, crf_after_fork_child) == 0)
		atfork = 1;
	crf_fatal_install();
}

/* crf_forget_error logs the pending exception, or only clears it when the
 * app's load failed before the traceback module was there. */
static void crf_forget_error(void)
{
	if (crf_print_exception != NULL) /* NULL: the app's load failed early */
		crf_log_exception();
	else
		PyErr_Clear();
}

/* crf_green_patch names the green-thread library ("gevent", "eventlet")
 * that monkey-patched threading while the app loaded, or returns NULL.
 * carafe runs each request on a real thread of its own, under the GIL:
 * the patched threads (the app's, Sentry's and OpenTelemetry's senders)
 * then run only when a request's thread yields to their hub, hardly ever,
 * and what they hold is not sent (uWSGI and Gunicorn's threads hang on
 * such an app instead). Called after the load, the GIL held. */
const char *crf_green_patch(void)
{
	static char lib[16];
	PyObject *fn, *r;
	const char *name = NULL;

	fn = crf_loader("_carafe_green_patch");
	r = fn != NULL ? PyObject_CallNoArgs(fn) : NULL;
	if (r != NULL && PyUnicode_Check(r) && PyUnicode_GET_LENGTH(r) > 0) {
		const char *u = PyUnicode_AsUTF8(r);
		if (u != NULL && strlen(u) < sizeof lib) {
			strcpy(lib, u);
			name = lib;
		}
	}
	if (r == NULL || PyErr_Occurred())
		PyErr_Clear();
	Py_XDECREF(r);
	Py_XDECREF(fn);
	return name;
}

/* crf_signals_forget drops the Python handlers the app set while it
 * loaded (signal.signal at import), for any signal: Python runs them only
 * on its main thread when it next runs Python (a later request's call,
 * with --threads 1; else the stop), so a SIGALRM handler fired hours
 * late, raising into another request or carafe's finalisation. Each
 * becomes SIG_IGN in Python's table, which Python's finalisation leaves
 * alone, and its signal gets back the action it had before the app
 * loaded. SIG_IGN, not SIG_DFL, for the moment between the two: SIGTERM's
 * default would end the worker then. mod_wsgi likewise ignores such
 * handlers. Handlers in C (faulthandler's) stay. A signal already pending
 * runs its handler first (logged if it raises). Called on the main
 * thread, the GIL held; writes the signals' numbers to dropped (room for
 * n) and returns how many there were. */
int crf_signals_forget(int *dropped, int n)
{
	PyObject *mod, *getsignal, *ign, *h, *r;
	int k = 0;

	if (PyErr_CheckSignals() < 0)
		crf_forget_error();
	mod = PyImport_ImportModule("_signal"); /* in C: no bytecode, where pending handlers run */
	getsignal = mod != NULL ? PyObject_GetAttrString(mod, "getsignal") : NULL;
	ign = mod != NULL ? PyObject_GetAttrString(mod, "SIG_IGN") : NULL;
	if (getsignal == NULL || ign == NULL) {
		crf_forget_error();
		goto out;
	}
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		h = PyObject_CallFunction(getsignal, "i", sig);
		if (h == NULL) {
			if (PyErr_ExceptionMatches(PyExc_ValueError))
				PyErr_Clear(); /* not a signal Python knows */
			else
				crf_forget_error();
			continue;
		}
		if (PyCallable_Check(h)) {
			r = PyObject_CallMethod(mod, "signal", "iO", sig, ign);
			if (r == NULL)
				crf_forget_error();
			Py_XDECREF(r);
			sigaction(sig, &crf_saved_actions[sig], NULL);
			if (k < n)
				dropped[k++] = sig;
		}
		Py_DECREF(h);
	}
out:
	Py_XDECREF(ign);
	Py_XDECREF(getsignal);
	Py_XDECREF(mod);
	return k;
}

/* crf_signals_python_defaults makes Python's table say SIG_DFL for the
 * signals whose action is Go's handler (the worker's own, SIGALRM,
 * SIGCHLD, ...): Python took it for a handler of C's and said None
 * (getsignal, and signal's return), and an import that saves a handler
 * and puts it back (old = signal.signal(SIGALRM, h) ... signal.signal(
 * SIGALRM, old), as timeout helpers do) failed with a TypeError, as None
 * is no handler. Setting SIG_DFL through Python changes the action too,
 * which is put back at once: a signal in between gets its default
 * action, before the app has loaded. An app that puts SIG_DFL back makes
 * it the action; the worker's own signals get Go's back once the app has
 * loaded (crf_signals_restore), and until then take their default action
 * (SIGTERM ends the worker at once rather than after its import). Called
 * on the main thread, the GIL held, after crf_signals_save. */
static void crf_signals_python_defaults(void)
{
	PyObject *mod, *getsignal, *dfl, *h, *r;

	mod = PyImport_ImportModule("_signal");
	getsignal = mod != NULL ? PyObject_GetAttrString(mod, "getsignal") : NULL;
	dfl = mod != NULL ? PyObject_GetAttrString(mod, "SIG_DFL") : NULL;
	if (getsignal == NULL || dfl == NULL) {
		PyErr_Clear();
		goto out;
	}
	for (int sig = 1; sig < 32; sig++) {
		/* Not those of faults and of Go's own working (preemption,
		 * profiling, broken pipes): no app saves them. */
		if (sig == SIGKILL || sig == SIGSTOP || sig == SIGURG || sig == SIGPIPE ||
		    sig == SIGPROF || sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE ||
		    sig == SIGILL || sig == SIGTRAP || sig == SIGSYS || sig == SIGABRT ||
		    crf_go_handler == NULL || !(crf_saved_actions[sig].sa_flags & SA_SIGINFO) ||
		    crf_saved_actions[sig].sa_sigaction != crf_go_handler)
			continue;
		h = PyObject_CallFunction(getsignal, "i", sig);
		if (h == Py_None) {
			r = PyObject_CallMethod(mod, "signal", "iO", sig, dfl);
			sigaction(sig, &crf_saved_actions[sig], NULL);
			Py_XDECREF(r);
		}
		Py_XDECREF(h);
		PyErr_Clear();
	}
out:
	Py_XDECREF(dfl);
	Py_XDECREF(getsignal);
	Py_XDECREF(mod);
}

/* crf_signals_restore puts back any kept signal's action changed since
 * crf_signals_save (by the app, while it loaded), writes the numbers of
 * those signals to changed (room for n) and returns how many there were. */
int crf_signals_restore(int *changed, int n)
{
	struct sigaction now;
	int k = 0;

	for (int i = 0; i < CRF_KEPT_SIGNALS; i++) {
		if (sigaction(crf_kept_signals[i], NULL, &now) != 0 ||
		    (now.sa_sigaction == crf_kept_actions[i].sa_sigaction &&
		     now.sa_flags == crf_kept_actions[i].sa_flags))
			continue;
		sigaction(crf_kept_signals[i], &crf_kept_actions[i], NULL);
		/* SIG_DFL is what Python showed the app (see
		 * crf_signals_python_defaults): one that put it back changed
		 * nothing of its own, and is not told of it. */
		if (!(now.sa_flags & SA_SIGINFO) && now.sa_handler == SIG_DFL)
			continue;
		if (k < n)
			changed[k++] = crf_kept_signals[i];
	}
	return k;
}

static int crf_wrap_os_exit(void);

/* crf_load_app imports the app (a module or a .wsgi script file) on the
 * main thread, after the modules of imports, and prepares what every
 * request shares. On failure *err is the Python traceback. */
static int crf_load(int kind, const char *spec, const char *callable, const char *pythonpath,
		    const char *imports, const char *keys, Py_ssize_t keys_len, int threads,
		    int processes, const char *software, char **err);

/* crf_load_app is crf_load with this thread marked as running the app's
 * code (its import), for crf_fatal. */
int crf_load_app(int kind, const char *spec, const char *callable, const char *pythonpath,
		 const char *imports, const char *keys, Py_ssize_t keys_len, int threads,
		 int processes, const char *software, char **err)
{
	int rc;

	crf_in_app = 1;
	rc = crf_load(kind, spec, callable, pythonpath, imports, keys, keys_len, threads, processes,
		      software, err);
	crf_in_app = 0;
	return rc;
}

static int crf_load(int kind, const char *spec, const char *callable, const char *pythonpath,
		    const char *imports, const char *keys, Py_ssize_t keys_len, int threads,
		    int processes, const char *software, char **err)
{
	PyObject *mod = NULL, *tb = NULL;
	char what[1024];

	if (PyType_Ready(&crf_InputType) < 0 || PyType_Ready(&crf_ResponderType) < 0 ||
	    crf_file_wrapper_init() < 0)
		goto fail;
	if (crf_prepend_paths(pythonpath) < 0 || crf_intern_keys(keys, keys_len) < 0 ||
	    crf_build_template(threads, processes, software) < 0)
		goto fail;
	tb = PyImport_ImportModule("traceback");
	if (tb == NULL)
		goto fail;
	crf_print_exception = PyObject_GetAttrString(tb, "print_exception");
	if (crf_print_exception == NULL)
		goto fail;
	crf_signals_python_defaults();
	if (crf_wrap_os_exit() < 0 || crf_preimport(imports) < 0)
		goto fail;
	switch (kind) {
	case CRF_APP_PASTE:
	case CRF_APP_PASTE_LOGGED:
		/* The app is what paste.deploy builds, no attribute of a module. */
		crf_app = crf_run_loader("_carafe_load_paste", spec, kind == CRF_APP_PASTE_LOGGED);
		if (crf_app == NULL)
			goto fail;
		if (!PyCallable_Check(crf_app)) {
			PyErr_Format(PyExc_TypeError,
				     "paste %s: loadapp returned a %s, not a WSGI callable", spec,
				     Py_TYPE(crf_app)->tp_name);
			Py_CLEAR(crf_app);
			goto fail;
		}
		Py_DECREF(tb);
		return 0;
	case CRF_APP_FILE:
		snprintf(what, sizeof what, "wsgi file %s", spec);
		mod = crf_import_file(spec);
		break;
	default:
		snprintf(what, sizeof what, "module %s", spec);
		mod = PyImport_ImportModule(spec);
	}
	if (mod == NULL)
		goto fail;
	crf_app = crf_find_callable(mod, callable, what);
	if (crf_app == NULL)
		goto fail;
	Py_DECREF(mod);
	Py_DECREF(tb);
	return 0;
fail:
	*err = crf_format_exception();
	crf_flush_std(); /* the worker exits without finalising */
	Py_XDECREF(mod);
	Py_XDECREF(tb);
	return -1;
}

/* crf_drop_file_wrapper leaves wsgi.file_wrapper out of every environ
 * (uWSGI's wsgi-disable-file-wrapper): apps then iterate their files
 * themselves. Called on the main thread after crf_load_app. */
void crf_drop_file_wrapper(void)
{
	if (PyDict_DelItemString(crf_env_template, "wsgi.file_wrapper") < 0)
		PyErr_Clear(); /* not there: nothing to drop */
}

/* crf_release_main drops the GIL the initialising thread holds. */
void crf_release_main(void)
{
	crf_main_tstate = PyEval_SaveThread();
}

/* crf_name_thread names the calling OS thread "carafe-py N", so that top -H,
 * ps -L and perf tell a Python thread's own OS thread from the Go runtime's. */
void crf_name_thread(int index)
{
	char name[16]; /* the kernel keeps 15 bytes */

	snprintf(name, sizeof name, "carafe-py %d", index);
	pthread_setname_np(pthread_self(), name);
}

/* crf_slot_new returns the per-request state of logical thread index. */
crf_slot *crf_slot_new(int index)
{
	crf_slot *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	s->index = index;
	s->head_cap = 1024;
	s->head = malloc(s->head_cap);
	s->body_cap = 64 * 1024;
	s->body = malloc(s->body_cap);
	if (s->head == NULL || s->body == NULL) {
		free(s->head);
		free(s->body);
		free(s);
		return NULL;
	}
	return s;
}

/* The calling OS thread's Python thread state, made the first time the
 * thread runs Python and kept for good: Go runs a call on whichever OS
 * thread its goroutine is on, so the runtime's threads may become Python
 * threads too. crf_adopt_left bounds how many of them may, so that the
 * app's per-thread state (a database connection per thread) stays
 * bounded: at most twice --threads in all. */
static __thread PyThreadState *crf_tstate;
static int crf_adopt_left;

void crf_set_adopt(int n)
{
	__atomic_store_n(&crf_adopt_left, n, __ATOMIC_RELAXED);
}

/* crf_may_run reports whether the calling OS thread may run Python: it
 * has a thread state, or own says it is a Python thread's own OS thread,
 * or it may still adopt one (which it then counts). */
int crf_may_run(int own)
{
	int left;

	if (crf_tstate != NULL || own)
		return 1;
	left = __atomic_load_n(&crf_adopt_left, __ATOMIC_RELAXED);
	while (left > 0)
		if (__atomic_compare_exchange_n(&crf_adopt_left, &left, left - 1, 0,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return 1;
	return 0;
}

/* crf_thread_begin runs on an OS thread's first entry into Python, the GIL
 * held: threading sees such a thread as a dummy one, and dummies are
 * daemons, so a Thread the app starts from a request (an e-mail sent in
 * the background, a threading.Timer) was a daemon too, as it inherits
 * the flag, and a stop, a reload or a recycle ended it unfinished. The
 * thread is marked as no daemon: as under Gunicorn, whose request
 * threads are threading's own (and under uWSGI's first thread), Python's
 * exit then waits for such a Thread (within --worker-reload-mercy; see
 * crf_finalize_begin, which does not count the dummies themselves). The
 * tracer and profiler threading.settrace and setprofile set for every
 * thread are set for it too, as threading's own threads take them:
 * coverage.py and profilers saw no request's code. And it is named
 * carafe-worker1-thread3 (the worker, then the order in which its
 * threads came), as uWSGI names its (uWSGIWorker1Core3), for logging's
 * %(threadName)s, which read Dummy-3. */
static void crf_thread_begin(void)
{
	static PyObject *fn;
	PyObject *f, *r;

	if (fn == NULL) {
		f = crf_loader("_carafe_thread_begin");
		if (f == NULL) {
			PyErr_Clear();
			return;
		}
		if (fn == NULL) /* (compiling it may have let another thread make it) */
			fn = f;
		else
			Py_DECREF(f);
	}
	r = PyObject_CallNoArgs(fn);
	if (r == NULL)
		crf_log_exception();
	Py_XDECREF(r);
}

/* crf_enter takes the GIL on the calling OS thread, first giving the thread
 * a persistent thread state (registered with PyGILState, so C extensions
 * that call PyGILState_Ensure on it find it), and returns that state. */
PyThreadState *crf_enter(void)
{
	if (crf_tstate == NULL) {
		PyGILState_Ensure();
		crf_tstate = PyThreadState_Get();
		crf_thread_begin();
		return crf_tstate;
	}
	PyEval_RestoreThread(crf_tstate);
	return crf_tstate;
}

/* crf_atexit_begun is set once Py_FinalizeEx runs the atexit handlers,
 * so past the app's non-daemon threads (see crf_finalize_begin). */
static int crf_atexit_begun;

/* crf_mark_atexit, the first atexit handler, also drops the app callable.
 * It keeps its module's globals alive (a function's __globals__, a Flask
 * app's view functions): Python's teardown of modules would then never
 * reach them, and their objects would not be finalised (a buffered file's
 * last lines lost, a temporary file left, a __del__ never run), as they
 * are at python's own exit. Not before: while Py_FinalizeEx waits for the
 * app's non-daemon threads, a call that starts late (its body came after
 * the drain) still runs the app; from here on, crf_run refuses. */
static PyObject *crf_mark_atexit(PyObject *self, PyObject *unused)
{
	__atomic_store_n(&crf_atexit_begun, 1, __ATOMIC_RELAXED);
	Py_CLEAR(crf_app);
	Py_RETURN_NONE;
}

static PyMethodDef crf_mark_atexit_def = {"_carafe_atexit_begun", crf_mark_atexit, METH_NOARGS,
					  NULL};

/* crf_finalize_begin runs on the initialising thread before crf_finalize.
 * It lists the app's live non-daemon threads, which Py_FinalizeEx joins,
 * however long they run, before the atexit handlers: one a line, its OS
 * thread id, a space and its name, in a malloc'd string ("" for none;
 * NULL when they cannot be listed). carafe's own Python threads
 * (threading's dummy threads) are not among them: Python does not join
 * them. It
 * also registers the atexit handler that runs first (atexit's order is
 * the reverse of registration), which sets crf_atexit_begun. */
char *crf_finalize_begin(void)
{
	PyObject *mark = NULL, *fn = NULL, *names = NULL;
	const char *utf8;
	char *out = NULL;

	PyEval_RestoreThread(crf_main_tstate);
	mark = PyCFunction_New(&crf_mark_atexit_def, NULL);
	if (mark == NULL)
		goto fail;
	fn = crf_loader("_carafe_finalize_begin");
	if (fn == NULL)
		goto fail;
	names = PyObject_CallOneArg(fn, mark);
	if (names == NULL)
		goto fail;
	utf8 = PyUnicode_AsUTF8(names);
	if (utf8 != NULL)
		out = strdup(utf8);
fail:
	if (PyErr_Occurred())
		crf_log_exception();
	Py_XDECREF(mark);
	Py_XDECREF(fn);
	Py_XDECREF(names);
	crf_main_tstate = PyEval_SaveThread();
	return out;
}

/* crf_atexit_began reports whether crf_finalize has reached the atexit
 * handlers; any thread may ask. */
int crf_atexit_began(void)
{
	return __atomic_load_n(&crf_atexit_begun, __ATOMIC_RELAXED);
}

/* crf_finalize runs on the initialising thread: it takes the GIL back and
 * shuts Python down, running atexit handlers. */
void crf_finalize(void)
{
	PyEval_RestoreThread(crf_main_tstate);
	if (Py_FinalizeEx() < 0)
		fprintf(stderr, "carafe: errors while finalising Python\n");
}

/* faulthandler's own walk of a thread's frames, which needs no GIL, so it
 * can show where a stuck thread is. Up to 3.12 libpython exports it; 3.13
 * hides it (gh-107215), so only a static libpython (scripts/pyflags.py's
 * default) has it there: a weak reference lets a build linked with
 * libpython.so link too, and say what it cannot show. */
#if PY_VERSION_HEX >= 0x030D0000
extern void _Py_DumpTraceback(int fd, PyThreadState *tstate) __attribute__((weak));
#else
extern void _Py_DumpTraceback(int fd, PyThreadState *tstate);
#endif

void crf_dump_traceback(crf_slot *s)
{
	/* NULL until the call has the GIL; written by the call's thread */
	PyThreadState *t = __atomic_load_n(&s->tstate, __ATOMIC_ACQUIRE);

#if PY_VERSION_HEX >= 0x030D0000
	static const char none[] = "carafe: no Python traceback: this libpython does not export "
				   "_Py_DumpTraceback (Python 3.13+ linked shared; build with "
				   "CARAFE_PYLINK=static)\n";

	if (_Py_DumpTraceback == NULL) {
		fputs(none, stderr);
		return;
	}
#endif
	if (t == NULL) {
		fputs("carafe: no Python stack: this call has not begun to run Python; it is "
		      "waiting for the GIL, which another thread holds\n",
		      stderr);
		return;
	}
	_Py_DumpTraceback(2, t);
}

/* A fatal signal in the app's code (a C extension's bad pointer, ctypes,
 * os.abort) went to the Go runtime's handler, which wrote every
 * goroutine's stack: hundreds of lines, thousands with many connections
 * open, and not the Python stack or the request a developer needs.
 * crf_fatal writes those instead, then ends the worker by the signal (the
 * master logs it and starts another). A fatal signal anywhere else (Go's
 * own code, where a nil pointer becomes a panic; a thread the app
 * started) still goes to Go's handler. */

__thread int crf_in_app;	  /* this OS thread runs the app's code, outside the Go callbacks */
__thread const char *crf_app_env; /* and the environ block of its call (NULL: the import) */
__thread Py_ssize_t crf_app_env_len;

static const int crf_fatal_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
static struct sigaction crf_fatal_prev[NSIG]; /* the handlers they had: Go's */

static void crf_fatal_write(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(2, p, n);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void crf_fatal_puts(const char *p)
{
	crf_fatal_write(p, strlen(p));
}

static void crf_fatal_int(long v)
{
	char buf[24], *p = buf + sizeof buf;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && p > buf);
	crf_fatal_write(p, (size_t)(buf + sizeof buf - p));
}

/* crf_fatal_env_value writes the value of the numbered environ key key
 * from the call's block (see wsgi.Env), at most 200 bytes of it, each
 * control byte as '?' (a path's %0A must not start a log line). */
static void crf_fatal_env_value(int key)
{
	const unsigned char *p = (const unsigned char *)crf_app_env;
	const unsigned char *end = p + crf_app_env_len;

	while (p + 6 <= end) {
		unsigned k = p[0] | p[1] << 8;
		size_t n = p[2] | p[3] << 8 | (size_t)p[4] << 16 | (size_t)p[5] << 24;

		p += 6;
		if (k == 0xFFFF) { /* a literal key: its name first */
			if (p + 2 > end)
				return;
			p += 2 + (p[0] | p[1] << 8);
		}
		if (p > end || n > (size_t)(end - p))
			return;
		if (k == (unsigned)key) {
			char out[200];
			size_t m = n < sizeof out ? n : sizeof out;

			for (size_t i = 0; i < m; i++)
				out[i] = p[i] < 0x20 || p[i] == 0x7f ? '?' : (char)p[i];
			crf_fatal_write(out, m);
			return;
		}
		p += n;
	}
}

/* The worker's request log gathers the lines of a busy moment for up to
 * 100 ms and writes them together. A worker that the app's code ends (a
 * fatal signal, os._exit) first has the Go side write them (crf_on_death):
 * they are the lines wanted, to see what led to the end. */
static int crf_death_fd = -1;

/* crf_on_death gives the socket the Go side answers crf_before_death on. */
void crf_on_death(int fd)
{
	crf_death_fd = fd;
}

/* crf_before_death asks the Go side to write what it holds, and waits at
 * most half a second for its answer. Async-signal-safe. Not in a process
 * the app forked: the Go side that would answer is the worker's. */
static void crf_before_death(void)
{
	struct pollfd p;
	char c = 'x';

	if (crf_death_fd < 0 || crf_forked)
		return;
	if (write(crf_death_fd, &c, 1) != 1)
		return;
	p.fd = crf_death_fd;
	p.events = POLLIN;
	if (poll(&p, 1, 500) == 1 && read(crf_death_fd, &c, 1) < 0) {
		/* it wrote what it could */
	}
}

/* os._exit, wrapped: crf_flush_std, crf_before_death, then the real one. */
static PyObject *crf_os_exit_real;

static PyObject *crf_os_exit(PyObject *self, PyObject *args, PyObject *kwargs)
{
	crf_flush_std();
	crf_before_death();
	return PyObject_Call(crf_os_exit_real, args, kwargs);
}

static PyMethodDef crf_os_exit_def = {"_exit", (PyCFunction)(void (*)(void))crf_os_exit,
				      METH_VARARGS | METH_KEYWORDS, NULL};

/* crf_wrap_os_exit puts crf_os_exit in os._exit's place (posix._exit's,
 * which it is), as like it as can be: its name, module, signature and
 * doc (inspect.signature reads the signature from the doc's first line). */
static int crf_wrap_os_exit(void)
{
	PyObject *posix, *os = NULL, *sig = NULL, *doc = NULL, *name = NULL, *fn = NULL;
	const char *s, *d;
	char *full;
	size_t n;
	int rc = -1;

	posix = PyImport_ImportModule("posix");
	if (posix == NULL)
		return -1;
	os = PyImport_ImportModule("os");
	if (os == NULL)
		goto out;
	crf_os_exit_real = PyObject_GetAttrString(posix, "_exit");
	if (crf_os_exit_real == NULL)
		goto out;
	sig = PyObject_GetAttrString(crf_os_exit_real, "__text_signature__");
	doc = PyObject_GetAttrString(crf_os_exit_real, "__doc__");
	PyErr_Clear();
	s = sig != NULL && PyUnicode_Check(sig) ? PyUnicode_AsUTF8(sig) : NULL;
	d = doc != NULL && PyUnicode_Check(doc) ? PyUnicode_AsUTF8(doc) : NULL;
	PyErr_Clear();
	if (s != NULL && d != NULL) {
		n = strlen("_exit") + strlen(s) + strlen("\n--\n\n") + strlen(d) + 1;
		full = malloc(n);
		if (full != NULL) {
			snprintf(full, n, "_exit%s\n--\n\n%s", s, d);
			crf_os_exit_def.ml_doc = full;
		}
	} else if (d != NULL) {
		crf_os_exit_def.ml_doc = strdup(d);
	}
	name = PyUnicode_FromString("posix");
	if (name == NULL)
		goto out;
	fn = PyCFunction_NewEx(&crf_os_exit_def, posix, name);
	if (fn == NULL || PyObject_SetAttrString(posix, "_exit", fn) < 0 ||
	    PyObject_SetAttrString(os, "_exit", fn) < 0)
		goto out;
	rc = 0;
out:
	Py_XDECREF(sig);
	Py_XDECREF(doc);
	Py_XDECREF(name);
	Py_XDECREF(fn);
	Py_XDECREF(os);
	Py_DECREF(posix);
	return rc;
}

static const char *crf_fatal_name(int sig)
{
	switch (sig) {
	case SIGSEGV:
		return "SIGSEGV (a bad memory access)";
	case SIGBUS:
		return "SIGBUS (a bad memory access)";
	case SIGILL:
		return "SIGILL (an illegal instruction)";
	case SIGFPE:
		return "SIGFPE (an arithmetic fault)";
	case SIGABRT:
		return "SIGABRT (an abort)";
	}
	return "a fatal signal";
}

/* crf_fatal_app_thread reports whether this thread is one the app started
 * (threading): a Python thread with no signal stack, which every thread of
 * the Go runtime's has. */
static int crf_fatal_app_thread(void)
{
	stack_t ss;

	return sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_DISABLE) &&
	       PyGILState_GetThisThreadState() != NULL;
}

static void crf_fatal(int sig, siginfo_t *info, void *ctx)
{
	struct sigaction dfl;
	PyThreadState *t;
	int app_thread = !crf_in_app && crf_fatal_app_thread();

	if (!crf_in_app && !app_thread) {
		/* Not the app's: Go's handler, called as the kernel would (it
		 * may resume the thread elsewhere, through ctx). */
		if (crf_fatal_prev[sig].sa_flags & SA_SIGINFO) {
			crf_fatal_prev[sig].sa_sigaction(sig, info, ctx);
			return;
		}
		if (crf_fatal_prev[sig].sa_handler != SIG_DFL &&
		    crf_fatal_prev[sig].sa_handler != SIG_IGN) {
			crf_fatal_prev[sig].sa_handler(sig);
			return;
		}
	} else {
		crf_before_death();
		crf_fatal_puts(crf_forked ? "carafe: a process the app forked (pid "
					  : "carafe: worker pid ");
		crf_fatal_int((long)getpid());
		crf_fatal_puts(crf_forked ? ")" : "");
		crf_fatal_puts(": fatal signal ");
		crf_fatal_puts(crf_fatal_name(sig));
		if (app_thread) {
			crf_fatal_puts(" in a thread the app started");
		} else if (crf_app_env != NULL) {
			crf_fatal_puts(" in the app's code, serving ");
			crf_fatal_env_value(CRF_KEY_REQUEST_METHOD);
			crf_fatal_puts(" ");
			crf_fatal_env_value(CRF_KEY_PATH_INFO);
		} else {
			crf_fatal_puts(" in the app's code, importing it");
		}
		crf_fatal_puts(crf_forked ? "; it ends. The Python stack of its thread:\n"
					  : "; the worker ends. The Python stack of its thread:\n");
		t = PyGILState_GetThisThreadState();
#if PY_VERSION_HEX >= 0x030D0000
		if (_Py_DumpTraceback == NULL)
			t = NULL;
#endif
		if (t != NULL)
			_Py_DumpTraceback(2, t);
		else
			crf_fatal_puts("  (not available)\n");
	}
	/* Ended by the signal itself: blocked while this runs, it is taken
	 * as the handler returns (a fault's instruction faults again). */
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	raise(sig);
}

/* crf_fatal_install puts crf_fatal in front of the handlers of the fatal
 * signals (Go's), once. */
void crf_fatal_install(void)
{
	static int done;
	struct sigaction sa;

	if (done)
		return;
	done = 1;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = crf_fatal;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof crf_fatal_signals / sizeof crf_fatal_signals[0]; i++) {
		int sig = crf_fatal_signals[i];

		if (sigaction(sig, NULL, &crf_fatal_prev[sig]) == 0)
			sigaction(sig, &sa, NULL);
	}
}

/* crf_fatal_is_ours tells a fork's child which handler to drop. */
int crf_fatal_is_ours(const struct sigaction *sa)
{
	return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == crf_fatal;
}

/* crf_dump_all writes the stack of every Python thread to fd holding the
 * GIL, so that no frame changes while it is read (faulthandler's
 * all-threads dump; the threads show as "Thread 0x<ident>"). A thread
 * stuck holding the GIL makes it wait; harakiri's crf_dump_traceback is the
 * tool for those. */
void crf_dump_all(int fd)
{
	PyGILState_STATE st = PyGILState_Ensure();
	PyObject *fh = PyImport_ImportModule("faulthandler");
	PyObject *r = fh ? PyObject_CallMethod(fh, "dump_traceback", "ii", fd, 1) : NULL;

	if (r == NULL)
		PyErr_Print();
	Py_XDECREF(r);
	Py_XDECREF(fh);
	PyGILState_Release(st);
}

/* crf_module_files lists, for --py-autoreload, every module in sys.modules
 * that has a file: "name\tpath\n" each, in a buffer the caller frees
 * (*len bytes); NULL if there is no memory. Only module objects count, and
 * __file__ is read from the module's dict, so that no Python code runs
 * (a module's __getattr__, an object posing as a module). */
char *crf_module_files(size_t *len)
{
	PyGILState_STATE st = PyGILState_Ensure();
	PyObject *items = PyDict_Items(PyImport_GetModuleDict()); /* a snapshot */
	char *out = NULL;
	size_t n = 0, cap = 0;
	int failed = items == NULL;

	*len = 0;
	for (Py_ssize_t i = 0; items != NULL && i < PyList_GET_SIZE(items); i++) {
		PyObject *item = PyList_GET_ITEM(items, i);
		PyObject *name = PyTuple_GET_ITEM(item, 0), *mod = PyTuple_GET_ITEM(item, 1);
		if (!PyUnicode_Check(name) || !PyModule_Check(mod))
			continue;
		PyObject *file = PyDict_GetItemString(PyModule_GetDict(mod), "__file__");
		if (file == NULL || !PyUnicode_Check(file))
			continue;
		Py_ssize_t nl, fl;
		const char *ns = PyUnicode_AsUTF8AndSize(name, &nl);
		const char *fs = ns != NULL ? PyUnicode_AsUTF8AndSize(file, &fl) : NULL;
		if (ns == NULL || fs == NULL) {
			if (PyErr_ExceptionMatches(PyExc_MemoryError))
				failed = 1;
			PyErr_Clear();
			if (failed)
				break;
			continue; /* a name or path that is no UTF-8 (lone surrogates) */
		}
		size_t need = n + (size_t)nl + (size_t)fl + 2;
		if (need > cap) {
			size_t ncap = cap ? 2 * cap : 16384;
			while (ncap < need)
				ncap *= 2;
			char *grown = realloc(out, ncap);
			if (grown == NULL) {
				failed = 1;
				break;
			}
			out = grown;
			cap = ncap;
		}
		memcpy(out + n, ns, (size_t)nl);
		n += (size_t)nl;
		out[n++] = '\t';
		memcpy(out + n, fs, (size_t)fl);
		n += (size_t)fl;
		out[n++] = '\n';
	}
	if (items == NULL)
		PyErr_Clear();
	Py_XDECREF(items);
	PyGILState_Release(st);
	if (failed) {
		/* Out of memory: an empty list would have --py-autoreload
		 * watch nothing without a word. */
		free(out);
		return NULL;
	}
	if (out == NULL)
		out = malloc(1); /* none: an empty list, not a failure */
	*len = n;
	return out;
}

/* crf_thread_ident is the ident (as faulthandler prints it) of the OS
 * thread running slot s's call; 0 while it waits for the GIL, or when s
 * is idle. */
unsigned long crf_thread_ident(crf_slot *s)
{
	PyThreadState *t = __atomic_load_n(&s->tstate, __ATOMIC_ACQUIRE);

	return t != NULL ? t->thread_id : 0;
}

const char *crf_version(void)
{
	return Py_GetVersion();
}

/* crf_one_arena makes every thread allocate from malloc's main arena,
 * unless MALLOC_ARENA_MAX or GLIBC_TUNABLES say otherwise. With an arena
 * per Python thread, memory freed at the top of a thread's arena stays
 * (malloc_trim gives back only the main arena's top), and after a large
 * upload glibc's raised trim threshold keeps it there for good: a Django
 * worker taking four 15 MB uploads at once went from 44 to 131 MB and
 * stayed. Python allocates under the GIL, so the threads hardly contend
 * for the one arena. It runs as the program loads: glibc fixes the number
 * of arenas at the second thread's first allocation, and the Go runtime
 * starts threads before any Go code runs. */
#ifdef __GLIBC__
__attribute__((constructor)) static void crf_one_arena(void)
{
	const char *tunables = getenv("GLIBC_TUNABLES");
	if (getenv("MALLOC_ARENA_MAX") == NULL &&
	    (tunables == NULL || strstr(tunables, "arena_max") == NULL))
		mallopt(M_ARENA_MAX, 1);
}
#endif

/* crf_trim_malloc hands the free pages of every malloc arena back to the
 * kernel; 1 if it released any. Python's larger objects come from malloc,
 * and glibc keeps each thread's arena as big as it once was (see
 * pyembed.TrimMalloc). Needs no GIL. */
int crf_trim_malloc(void)
{
#ifdef __GLIBC__
	return malloc_trim(0);
#else
	return 0;
#endif
}
