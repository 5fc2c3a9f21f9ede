/*
 * bench-pyfloor: the interpreter speed probe (bench/apps/pyspeed) in the
 * plainest embedding of libpython there is. A C program that links the
 * library the way carafe does (scripts/pyflags.py: libpython3.X.a where the
 * interpreter ships it) and calls the probe on a thread of its own, as a
 * server runs an app. No Go, no server: what it prints is what the library
 * build alone makes of the app, the floor for every program that embeds it.
 *
 * usage: bench-pyfloor PYTHON PYSPEED_WSGI_PY N
 * PYTHON is the interpreter whose prefix to use (a venv's python finds the
 * venv's site-packages); it prints N figures, one a line, in microseconds
 * per call, as `python PYSPEED_WSGI_PY N` does.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdio.h>

static const char probe[] =
	"import importlib.util, sys\n"
	"spec = importlib.util.spec_from_file_location('pyspeed', sys.argv[0])\n"
	"mod = importlib.util.module_from_spec(spec)\n"
	"spec.loader.exec_module(mod)\n"
	"for _ in range(int(sys.argv[1])):\n"
	"    print('%.2f' % mod.micros_per_call(), flush=True)\n";

static int failed;

static void *run(void *arg)
{
	PyGILState_STATE g = PyGILState_Ensure();

	(void)arg;
	failed = PyRun_SimpleString(probe) != 0;
	PyGILState_Release(g);
	return NULL;
}

int main(int argc, char **argv)
{
	PyConfig config;
	PyStatus st;
	PyThreadState *main_state;
	pthread_t t;

	if (argc != 4) {
		fprintf(stderr, "usage: %s PYTHON PYSPEED_WSGI_PY N\n", argv[0]);
		return 2;
	}
	PyConfig_InitPythonConfig(&config);
	config.parse_argv = 0;
	st = PyConfig_SetBytesString(&config, &config.program_name, argv[1]);
	if (!PyStatus_Exception(st))
		st = PyConfig_SetBytesString(&config, &config.executable, argv[1]);
	if (!PyStatus_Exception(st))
		st = PyConfig_SetBytesArgv(&config, argc - 2, argv + 2);
	if (!PyStatus_Exception(st))
		st = Py_InitializeFromConfig(&config);
	PyConfig_Clear(&config);
	if (PyStatus_Exception(st))
		Py_ExitStatusException(st);
	main_state = PyEval_SaveThread();
	if (pthread_create(&t, NULL, run, NULL) != 0) {
		fprintf(stderr, "bench-pyfloor: cannot start a thread\n");
		return 1;
	}
	pthread_join(t, NULL);
	PyEval_RestoreThread(main_state);
	if (Py_FinalizeEx() < 0)
		failed = 1;
	return failed;
}
