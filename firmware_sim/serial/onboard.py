"""The helper functions the serial runner defines on the board (``_fsim_*``, in its raw REPL) before
filesystem operations: stat, list, walk, mkdir -p, rm -r, SHA-256, base64 download, the
verify-then-rename end of an atomic upload, and the removal of stale upload parts. Program text only;
:mod:`.files` runs it.
"""

TEMP_SUFFIX = ".fsim-part"  # an upload in progress: NAME.fsim-part, renamed to NAME once verified

# Defined once per REPL session (its globals live until a soft reset). Runs on MicroPython 1.11.
PRELUDE = """\
try:
 import uos as _fo
except ImportError:
 import os as _fo
try:
 import ubinascii as _fb
except ImportError:
 import binascii as _fb
try:
 import uhashlib as _fh
except ImportError:
 import hashlib as _fh
def _fsim_j(p,n):
 return (p if p!='/' else '')+'/'+n
def _fsim_st(p):
 try:
  s=_fo.stat(p)
 except OSError:
  return None
 return (s[0]&0x4000!=0,s[6])
def _fsim_sha(p):
 h=_fh.sha256()
 f=open(p,'rb')
 try:
  while 1:
   c=f.read(1024)
   if not c:break
   h.update(c)
 finally:
  f.close()
 return _fb.hexlify(h.digest()).decode()
def _fsim_ls(p):
 s=_fo.stat(p)
 if not s[0]&0x4000:
  print(repr((p,False,s[6])))
  return
 for e in _fo.ilistdir(p):
  d=e[1]&0x4000!=0
  print(repr((e[0],d,0 if d else _fo.stat(_fsim_j(p,e[0]))[6])))
def _fsim_walk(p):
 for e in _fo.ilistdir(p):
  q=_fsim_j(p,e[0])
  if e[1]&0x4000:
   print(repr((q,True,0)))
   _fsim_walk(q)
  else:
   print(repr((q,False,_fo.stat(q)[6])))
def _fsim_mkdirs(p):
 q=''
 for s in p.split('/'):
  if s:
   q+='/'+s
   t=_fsim_st(q)
   if t is None:
    _fo.mkdir(q)
   elif not t[0]:
    raise OSError(20)
def _fsim_rm(p,r):
 if _fo.stat(p)[0]&0x4000:
  if not r:
   raise OSError(21)
  for n in [e[0] for e in _fo.ilistdir(p)]:
   _fsim_rm(_fsim_j(p,n),1)
  _fo.rmdir(p)
 else:
  _fo.remove(p)
def _fsim_get(p,n):
 h=_fh.sha256()
 f=open(p,'rb')
 try:
  while 1:
   c=f.read(n)
   if not c:break
   h.update(c)
   print(_fb.b2a_base64(c).decode(),end='')
 finally:
  f.close()
 print('#'+_fb.hexlify(h.digest()).decode())
def _fsim_done(t,p,x):
 _fsim_f.close()
 h=_fsim_sha(t)
 if h!=x:
  _fo.remove(t)
  print('bad '+h)
  return
 try:
  _fo.rename(t,p)
 except OSError:
  _fo.remove(p)
  _fo.rename(t,p)
 print('ok')
def _fsim_clean(ds):
 for d in ds:
  try:
   for n in [e[0] for e in _fo.ilistdir(d) if e[0].endswith('.fsim-part') and not e[1]&0x4000]:
    _fo.remove(_fsim_j(d,n))
  except OSError:
   pass
def _fsim_drop(t):
 try:
  _fsim_f.close()
 except Exception:
  pass
 try:
  _fo.remove(t)
 except Exception:
  pass
"""
