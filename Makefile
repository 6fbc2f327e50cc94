# Beyond 2D — every target creates the virtual environment on first use.
#   make course   build the release, execute every lesson, grade the demo class, print a table
#   make test     the test suite without whole-lesson runs (library, specs, grading, release staleness)
#   make test-lessons   every lesson executed once, in nbgrader and in the browser, and its demo class
#                 graded; make ci: both
#   make lab      JupyterLab on notebooks/ for students: nbgrader's assignment list and Validate only
#                 (lab/student/ on JUPYTER_CONFIG_PATH turns off the formgrader, the course list and
#                 Create Assignment; tests/browser checks this in a real browser)
#   make lab-instructor   JupyterLab on the project root with all of nbgrader's tools (formgrader,
#                 Create Assignment; nbgrader_config.py names the course)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch is installed first so that pip does not pick a build for us; on a machine with an NVIDIA
# GPU and Linux this same pin from PyPI is the CUDA build. Override, e.g.
#   make TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cpu" test
TORCH_SPEC ?= torch==2.13.0
STAMP  := $(BIN)/.beyond2d-installed
# nnU-Net v2, for the tests that compare course.medical.planning with its planner (dev only). Installed
# with --no-deps: its dependency timm pulls torchvision and a CUDA torch of several GB; the few
# dependencies it really imports (scikit-image, SimpleITK, blosc2) are in the dev extra.
NNUNET_NODEPS ?= nnunetv2==2.8.1 dynamic-network-architectures==0.4.4 acvl-utils==0.2.6 \
                 batchgenerators==0.25.5 batchgeneratorsv2==0.3.6
# OpenMP threads that sleep instead of spinning while they wait: with two test workers (or a kernel
# and a grader) on two cores, spinning threads starve each other (10x slower training measured)
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: course test test-lessons ci lab lab-instructor release grade clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q $(TORCH_SPEC)
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m pip install -q --no-deps $(NNUNET_NODEPS)
	touch $(STAMP)

release: $(STAMP)
	$(BIN)/python -m autograder release

course: $(STAMP)
	$(BIN)/python -m autograder course

# make test: everything but whole-lesson runs and the browser (about 7 min on 2 cores);
# make test-lessons: each lesson executed once (solutions through nbgrader, the release's Run All in
# Chromium), the demo class of every lesson graded in the box, and the other browser tests;
# make ci: both, as .ci/run does
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "not lessons and not browser"

test-lessons: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "lessons or browser"

ci: $(STAMP)
	$(MAKE) test
	$(MAKE) test-lessons

lab: $(STAMP)
	JUPYTER_CONFIG_PATH="$(CURDIR)/lab/student" $(BIN)/jupyter lab notebooks/

lab-instructor: $(STAMP)
	$(BIN)/jupyter lab

clean:
	rm -rf build
