# feedcorpus: the two commands a new user needs.
#   make demo   build, then ingest the bundled offline demo feeds into ./corpus
#   make test   build and run the whole test suite
# Both install the missing Debian packages first when run as root (otherwise they say what to
# install).

SWIFT ?= swift
APT_PACKAGES := libcurl4-openssl-dev libxml2-dev libsqlite3-dev zlib1g-dev pkg-config python3 systemd util-linux mount openssl
BIN := .build/debug/feedcorpus

.PHONY: demo test deps build release clean-demo

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing Debian packages:$$missing"; \
	    echo "install them with: sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi

build: deps
	$(SWIFT) build

demo: build
	$(BIN) fetch --once --config Config/demo.yaml
	@echo "corpus written to ./corpus (state in ./state); run 'make demo' again: nothing new is stored"

test: deps
	$(SWIFT) test --disable-xctest

release: deps
	$(SWIFT) build -c release --static-swift-stdlib

clean-demo:
	rm -rf corpus state
