#!/bin/bash
# .deb post-install: /usr/bin/quantscope is the launcher (desktop app or command line, see
# resources/bin/quantscope); the rest is what electron-builder's own post-install does.
ln -sf '/opt/QuantScope/resources/bin/quantscope' '/usr/bin/quantscope'
# Chromium's SUID sandbox only where user namespaces are unavailable.
if ! { [[ -L /proc/self/ns/user ]] && unshare --user true; }; then
  chmod 4755 '/opt/QuantScope/chrome-sandbox' || true
else
  chmod 0755 '/opt/QuantScope/chrome-sandbox' || true
fi
if hash update-desktop-database 2>/dev/null; then
  update-desktop-database /usr/share/applications || true
fi
