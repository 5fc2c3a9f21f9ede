/*
 * carafe's C bridge to CPython. Every symbol here starts with crf_; the Go
 * callbacks C calls start with crfGo. C refers to Go state only by a thread
 * slot number, never by a Go pointer.
 */
#ifndef CRF_BRIDGE_H
#define CRF_BRIDGE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <signal.h>
#include <stdint.h>

/* Results of crf_run. */
enum {
	CRF_OK = 0,	      /* the app finished; the rest of its output is in the slot */
	CRF_APP_ERROR = 1,    /* the app raised (or broke the protocol); traceback logged */
	CRF_OUTPUT_ERROR = 2, /* a crfGoOutput call failed (client gone or head invalid) */
	CRF_ELSEWHERE = 4     /* not run: this OS thread may not become a Python thread */
};

/* What a slot's in_go says is running in Go. */
enum {
	CRF_IN_GO_OUTPUT = 1, /* crfGoOutput: Go reads the head and body */
	CRF_IN_GO_INPUT = 2   /* crfGoRead: Go reads the body from the client */
};

/* Flags for crfGoOutput. */
enum {
	CRF_OUT_HEAD = 1 /* head/head_len carry a new status and headers */
};

/*
 * crf_slot is one logical Python thread's per-request state (tstate is
 * that of the OS thread running its current call, once it has the GIL;
 * NULL before, and between calls). Go reads head and
 * body after crf_run returns and during crfGoOutput; C owns the memory.
 *
 * head holds the status and headers as a sequence of strings, each a
 * little-endian u32 length followed by its latin-1 bytes: status, then
 * name, value, name, value, ...
 */
typedef struct crf_slot {
	int index;
	PyThreadState *tstate;

	char *head;
	Py_ssize_t head_len, head_cap;
	int head_set;	  /* start_response was called for this request */
	int head_sent;	  /* the head went to Go, so it can no longer change */
	int64_t length;	  /* the head's Content-Length; -1: none, or not one number */
	int64_t produced; /* body bytes the app gave so far (write() and its result) */

	char *body;
	Py_ssize_t body_len, body_cap;
	const char *ext; /* a large app chunk passed through without a copy */
	Py_ssize_t ext_len;

	int output_failed; /* crfGoOutput failed: stop producing output */
	int input_failed;  /* reading wsgi.input failed: the client left or stalled */
	int in_go;	   /* a crfGoOutput or crfGoRead call is running, the GIL released: CRF_IN_GO_* */

	/* A file_wrapper response Go sends with sendfile (crfGoSendFile),
	 * from crf_run, which then closes the result. file_sent: that is
	 * how this response went out, whole; nothing is left to send. */
	int file_fd;
	int64_t file_off, file_size;
	int file_sent;
	int in_request; /* inside crf_run: a start_response or write kept past it refuses */
	int head_only;	/* a HEAD request: no body goes out (set by Go before crf_run) */

	/* Reused per-request objects (wsgi.c: crf_responder; input.c: crf_input_new). */
	PyObject *start_response;
	PyObject *write;
	PyObject *input;
} crf_slot;

/* interp.c */
int crf_init(const char *executable, const char *home, const char *args, int nargs, int optimize, char **err);
/* What crf_load_app's spec names: a module, a script file, or a paste.deploy
 * URI (whose config file may also set up logging). */
enum { CRF_APP_MODULE, CRF_APP_FILE, CRF_APP_PASTE, CRF_APP_PASTE_LOGGED };
int crf_load_app(int kind, const char *spec, const char *callable, const char *pythonpath,
		 const char *imports, const char *keys, Py_ssize_t keys_len, int threads,
		 int processes, const char *software, char **err);
void crf_drop_file_wrapper(void);
void crf_signals_save(void);
void crf_fork_closes(int fd);
void crf_leave_if_forked(void);
int crf_signals_restore(int *changed, int n);
int crf_signals_forget(int *dropped, int n);
const char *crf_green_patch(void);
void crf_dump_all(int fd);
char *crf_module_files(size_t *len);
unsigned long crf_thread_ident(crf_slot *s);
void crf_release_main(void);
char *crf_finalize_begin(void);
int crf_atexit_began(void);
void crf_finalize(void);
crf_slot *crf_slot_new(int index);
void crf_name_thread(int index);
PyThreadState *crf_enter(void);
void crf_set_adopt(int n);
int crf_may_run(int own);
const char *crf_version(void);
int crf_trim_malloc(void);
void crf_dump_traceback(crf_slot *s);

/* wsgi.c */
int crf_run(crf_slot *s, int own, const char *env, Py_ssize_t env_len, const char *body,
	    Py_ssize_t body_len, int64_t body_total);
void crf_log_exception(void);
PyObject *crf_input_error(void);
extern PyTypeObject crf_ResponderType;

/* input.c */
extern PyTypeObject crf_InputType;
PyObject *crf_input_new(crf_slot *s);
void crf_input_begin(PyObject *in, crf_slot *s, const char *pre, Py_ssize_t pre_len, int64_t total);
void crf_input_end(PyObject *in);

/* gil.c: the address of the GIL's "locked" flag (read atomically; > 0
 * while some thread holds the GIL), or NULL where this build has no GIL
 * carafe knows how to watch. Call it holding the GIL (it checks the flag
 * says so), after crf_init. */
const int *crf_gil_locked(void);

/* filewrapper.c */
extern PyTypeObject crf_FileWrapperType;
int crf_file_wrapper_init(void);
int crf_file_fd(PyObject *result, int *fd, int64_t *off, int64_t *size);
int crf_file_ready(PyObject *result);

/* interp.c: fatal signals in the app's code (crf_fatal). */
extern __thread int crf_in_app;
extern __thread const char *crf_app_env;
extern __thread Py_ssize_t crf_app_env_len;
void crf_fatal_install(void);
void crf_on_death(int fd);
int crf_fatal_is_ours(const struct sigaction *sa);
/* The numbers of two environ keys (wsgi.KeyRequestMethod, KeyPathInfo). */
#define CRF_KEY_REQUEST_METHOD 0
#define CRF_KEY_PATH_INFO      1

/* The Go callbacks crfGoRead, crfGoOutput and crfGoSendFile are declared in
 * _cgo_export.h. */

#endif
