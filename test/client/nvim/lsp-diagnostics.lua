-- A second LSP client: headless Neovim (0.7's vim.lsp.start_client) runs `iommu-lens lsp --stdio`
-- on a fixture and writes the diagnostics it receives, one "line:code:source" per line, then
-- "vim.diagnostic:N" (what Neovim's own diagnostic store holds). Driven by scripts/vscode/nvim-test.mjs.
local file = assert(os.getenv('IOMMU_LENS_NVIM_FILE'))
local out = assert(os.getenv('IOMMU_LENS_NVIM_OUT'))
local root = assert(os.getenv('IOMMU_LENS_NVIM_ROOT'))
local node = os.getenv('IOMMU_LENS_NODE') or 'node'
local bin = assert(os.getenv('IOMMU_LENS_BIN'))
local timeout = tonumber(os.getenv('IOMMU_LENS_NVIM_TIMEOUT') or '30000')

local uri = vim.uri_from_fname(file)
local received = nil
local client_id = vim.lsp.start_client({
  name = 'iommu-lens',
  cmd = { node, bin, 'lsp', '--stdio' },
  root_dir = root,
  handlers = {
    ['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
      if result and result.uri == uri and #result.diagnostics > 0 then received = result end
      return vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, config)
    end,
  },
})

vim.cmd('edit ' .. vim.fn.fnameescape(file))
vim.bo.filetype = 'c'
vim.lsp.buf_attach_client(0, client_id)

-- vim.wait runs the event loop until the condition holds or the time-out passes.
local ok = vim.wait(timeout, function() return received ~= nil end, 20)
local f = assert(io.open(out, 'w'))
if ok then
  for _, d in ipairs(received.diagnostics) do
    f:write(string.format('%d:%s:%s\n', d.range.start.line + 1, tostring(d.code), tostring(d.source)))
  end
  vim.wait(2000, function() return #vim.diagnostic.get(0) > 0 end, 20)
  f:write('vim.diagnostic:' .. #vim.diagnostic.get(0) .. '\n')
else
  f:write('timeout\n')
end
f:close()
vim.lsp.stop_client(client_id, true)
vim.cmd('qa!')
