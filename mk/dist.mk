# make dist: source rocks of the versioned rockspecs in build/dist/, which
# `luarocks install` builds and installs offline (spec/dist_spec.lua). Both
# rocks carry one archive of the tree at HEAD (git archive), named by the
# rockspecs' source.url. (`luarocks pack` would fetch that url again from
# a temporary directory, so the zip is made here.)
VERSION ?= 1.0.0
DIST ?= $(BUILD)/dist
DIST_NAME = netsocket-$(VERSION)

.PHONY: dist
dist:
	@git rev-parse --git-dir >/dev/null 2>&1 || { echo "make dist: needs a git checkout (it packs HEAD)" >&2; exit 1; }
	rm -rf $(DIST)
	mkdir -p $(DIST)
	git archive --format=tar.gz --prefix=$(DIST_NAME)/ -o $(DIST)/$(DIST_NAME).tar.gz HEAD
	cp netsocket-$(VERSION)-1.rockspec netsocket-ssl-$(VERSION)-1.rockspec $(DIST)/
	# a .src.rock is a zip of the rockspec and its source archive
	cd $(DIST) && for r in netsocket netsocket-ssl; do \
	    zip -q $$r-$(VERSION)-1.src.rock $$r-$(VERSION)-1.rockspec $(DIST_NAME).tar.gz || exit 1; done
	rm $(DIST)/*.rockspec
	@ls -1 $(DIST)/*.src.rock
