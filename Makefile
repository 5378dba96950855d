# The two commands of the README:  `make run`  and  `make test`.
# Both set everything up on a fresh machine (Python 3.11, pip, Node.js, Debian packages).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | sha1sum | cut -c1-12)
NODE   := $(shell command -v node)
MODELER_STAMP := tools/modeler/node_modules/.installed-$(shell sha1sum tools/modeler/package-lock.json 2>/dev/null | cut -c1-12)

# PostgreSQL 15 runs locally on the development and CI machines; the tests fail (not skip)
# if it cannot be reached.
export REFORMFLOW_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
export REFORMFLOW_REQUIRE_POSTGRES ?= 1

# the web inbox's port: `make run PORT=5001` when 5000 is taken
PORT ?= 5000

.PHONY: run test setup modeler browser bench pictures clean

$(STAMP): setup.cfg pyproject.toml
	@echo "==> 安装 Python 依赖到 $(VENV)/，首次约需 1–2 分钟 (installing Python dependencies, 1–2 min the first time)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,postgres]'
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP) modeler browser

# Debian's chromium for the web inbox's browser tests (Playwright drives it; never `playwright install`).
CHROMIUM := $(shell command -v chromium)
SUDO     := $(if $(filter 0,$(shell id -u)),,sudo)
browser:
ifeq ($(CHROMIUM),)
	@echo "==> 安装 Debian 的 chromium，供网页测试使用 (installing Debian's chromium for the browser tests)"
	$(SUDO) apt-get install -y --no-install-recommends chromium fonts-wqy-microhei || ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium fonts-wqy-microhei)
endif

# The Camunda Modeler toolchain (bpmn-moddle, bpmnlint) for `reformflow check`; skipped without Node.js.
modeler:
ifneq ($(NODE),)
	@test -f $(MODELER_STAMP) || (echo "==> 安装 Camunda Modeler 检查工具 (installing the Modeler lint toolchain: npm ci)" && npm ci --prefix tools/modeler --no-audit --no-fund --loglevel=error && touch $(MODELER_STAMP))
else
	@echo "Node.js not found: the Camunda Modeler lint will be skipped by reformflow check"
endif

run: $(STAMP) modeler
	@echo "==> 创建数据库并加载演示数据 (creating the database with demo data)"
	$(BIN)/reformflow init --demo
	$(BIN)/reformflow ledger
	@echo "==> 网页待办 (web inbox): http://127.0.0.1:$(PORT)/ — 以 chen（改革办）、li（法制机构）或 zhang（起草人）登录，密码 demo (sign in as chen, li or zhang, password demo)"
	@echo "    定时器随之运行；Ctrl+C 停止 (the timer worker runs beside it; Ctrl+C stops both)"
	$(BIN)/reformflow web --port $(PORT)

# Two test processes (pytest-xdist), each with its own databases and chromium: on 2 cores the
# suite takes about two thirds of the time one process takes. TEST_WORKERS=1 runs it in one.
TEST_WORKERS ?= 2
test: setup
	@echo "==> 运行全部测试：SQLite、PostgreSQL、Modeler 工具链与浏览器中的网页，$(TEST_WORKERS) 个进程，约 7–16 分钟，视机器快慢 (running every test, web pages in chromium included, in $(TEST_WORKERS) processes, about 7–16 min depending on the machine)"
	REFORMFLOW_REQUIRE_MODELER=$(if $(NODE),1,0) REFORMFLOW_REQUIRE_BROWSER=1 $(BIN)/pytest -q $(if $(filter-out 1,$(TEST_WORKERS)),-n $(TEST_WORKERS))

# Pictures of the diagrams for the docs (needs Debian's chromium and fonts-wqy-microhei; see tools/diagrams/README.md).
pictures: setup
	@echo "==> 绘制流程图和台账截图 (drawing the diagrams and the ledger to docs/images/ in Chromium)"
	tools/diagrams/pictures.sh

bench: setup
	$(BIN)/python bench/engine.py --floor

clean:
	rm -rf $(VENV) instance .pytest_cache tools/modeler/node_modules
