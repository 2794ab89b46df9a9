# Hosted tools, built with the host compiler.
#
# keel-cfgcheck links the hypervisor's own config parser so that it accepts
# exactly what Keel accepts at boot; libc stands in for hv/string.c.

KEEL_CFGCHECK_SRCS := tools/keel-cfgcheck.c hv/config.c hv/strutil.c

.PHONY: tools
tools: $(BUILD)/keel-cfgcheck

$(BUILD)/keel-cfgcheck: $(KEEL_CFGCHECK_SRCS) $(wildcard include/keel/*.h)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -o $@ $(KEEL_CFGCHECK_SRCS)
