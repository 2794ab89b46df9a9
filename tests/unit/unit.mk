# Hosted unit tests: tests/unit/test_NAME.c is linked with the core sources
# listed (one path per line) in tests/unit/test_NAME.srcs.

UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst %,$(BUILD)/unit/%,$(UNIT_TESTS))

.PHONY: unit-bins
unit-bins: $(UNIT_BINS)

.SECONDEXPANSION:
$(BUILD)/unit/%: tests/unit/%.c tests/unit/test.h $$(shell cat tests/unit/$$*.srcs 2>/dev/null) \
		$$(wildcard tests/unit/$$*.srcs) $$(wildcard include/keel/*.h)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) -o $@ $< $(shell cat tests/unit/$*.srcs 2>/dev/null)

unit: $(UNIT_BINS)
	@pass=0; fail=0; for t in $(UNIT_BINS); do \
		if $$t > $$t.log 2>&1; then pass=$$((pass+1)); echo "PASS $$t"; \
		else fail=$$((fail+1)); echo "FAIL $$t"; cat $$t.log; fi; done; \
	echo "unit: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]
