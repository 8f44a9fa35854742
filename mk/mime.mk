# mime.core: LuaSocket 3.x's MIME primitives in C (src/mime/), a library of
# its own (not part of socket.core), with lua/mime.lua on top. `make` builds
# it, `make lib` too (the rockspec's build target), and `make install`
# installs it through install-mime.

MIME_SRC = $(sort $(wildcard src/mime/*.c))
MIME_OBJ = $(MIME_SRC:src/mime/%.c=$(BUILD)/obj/mime/%.o) $(BUILD)/obj/compat.o
MIME_SO  = $(BUILD)/mime/core.so

.PHONY: mime install-mime

all: $(MIME_SO)
lib: $(MIME_SO)
install: install-mime

mime: check-lua $(MIME_SO)

# The shorter stem wins over the main Makefile's $(BUILD)/obj/%.o rule.
$(BUILD)/obj/mime/%.o: src/mime/%.c src/mime/*.h src/class.h src/compat.h $(LUA_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(MIME_SO): $(MIME_OBJ)
	@mkdir -p $(@D)
	$(CC) $(MIME_OBJ) $(LDFLAGS_ALL) -o $@

install-mime: $(MIME_SO)
	install -d $(INST_LIBDIR)/mime $(INST_LUADIR)
	install -m 755 $(MIME_SO) $(INST_LIBDIR)/mime/core.so
	install -m 644 lua/mime.lua $(INST_LUADIR)/mime.lua
