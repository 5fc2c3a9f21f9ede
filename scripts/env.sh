# Source this (". scripts/env.sh") to run go build/test/vet by hand with
# the cgo flags make uses for the interpreter $PYTHON (default python3).
_carafe_py=$(${PYTHON:-python3} -c 'import sys; print(sys.executable)')
_carafe_flags=$("$_carafe_py" "$(dirname "${BASH_SOURCE[0]:-$0}")/pyflags.py")
export CGO_ENABLED=1
export CGO_CFLAGS="${_carafe_flags%% *} -O2"
export CGO_LDFLAGS="${_carafe_flags#* }"
unset _carafe_py _carafe_flags
