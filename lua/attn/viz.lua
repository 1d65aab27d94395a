-- attn.viz, the Lua half: pictures made of other pictures. The renderer
-- and the window, PNG and terminal sinks are C (l_viz.c and viz/).

local attn = require "attn.core"
local viz = attn.viz

--- viz.diff(w1, w2, opts): the heatmap of w1 - w2 on the diverging
-- colormap, centred on 0 and symmetric (|largest change| on both ends),
-- so red is "attends more in w1" and blue "attends more in w2".
function viz.diff(w1, w2, opts)
  assert(attn.is_tensor(w1) and attn.is_tensor(w2), "viz.diff: expected two tensors")
  local d = w1 - w2
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  local m = d:abs():max():item()
  m = m > 0 and m or 1
  o.colormap = o.colormap or "diverging"
  o.vmin, o.vmax = o.vmin or -m, o.vmax or m
  o.title = o.title or "difference"
  return viz.heatmap(d, o)
end

return viz
