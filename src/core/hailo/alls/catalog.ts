import * as path from 'node:path';
import { loadSourceMap } from '../../graph/sourceMap';
import { modelPaths } from '../../project/load';
import type { Model, ProjectFile } from '../../project/schema';
import { layerCatalogFromGraph, type LayerCatalog } from './layers';
import { openHnOrHar } from '../hn';

/**
 * Where a model script's layer names come from: the model in hailo.json whose `modelScript` is
 * this file, and that model's HAR (its `har`, else `<onnx stem>.har` beside the ONNX).
 */
export interface ScriptModel {
  model: Model;
  har: string;
  onnx: string;
  /** The DFC network name: `netName`, else the model name. */
  netName: string;
}

/** The model of the project whose `modelScript` resolves to `scriptFile`, if any. */
export function modelForScript(project: ProjectFile, root: string, scriptFile: string): ScriptModel | undefined {
  const want = normalise(scriptFile);
  for (const m of project.models) {
    const p = modelPaths(m, root);
    if (p.modelScript && normalise(p.modelScript) === want) return { model: m, har: p.har, onnx: p.onnx, netName: m.netName ?? m.name };
  }
  return undefined;
}

function normalise(p: string): string {
  const r = path.resolve(p);
  return process.platform === 'win32' ? r.toLowerCase() : r;
}

/**
 * Read the layer catalog of a HAR (or a bare `.hn` file). When the ONNX file it was parsed from has
 * a source map, each layer also gets the Python line its ONNX nodes came from. Throws HailoError
 * (HAR_INVALID, HN_INVALID, MODEL_READ_FAILED, ...) naming the file; a broken source map is
 * ignored with a warning, since the layer names alone are still worth having.
 */
export async function loadLayerCatalog(
  file: string,
  opts: { onnxFile?: string; signal?: AbortSignal; warn?: (message: string) => void } = {},
): Promise<LayerCatalog> {
  const { hn } = await openHnOrHar(file, opts.signal ? { signal: opts.signal } : {});
  let sourceMap: Awaited<ReturnType<typeof loadSourceMap>>;
  if (opts.onnxFile) {
    try {
      sourceMap = await loadSourceMap(opts.onnxFile);
    } catch (e) {
      opts.warn?.(`${opts.onnxFile}: source map ignored (${(e as Error).message})`);
    }
  }
  const catalog = layerCatalogFromGraph(hn.graph, {
    origin: path.basename(file),
    scopes: hn.netScopes,
    ...(opts.onnxFile ? { onnxFile: opts.onnxFile } : {}),
    ...(sourceMap ? { sourceMap } : {}),
  });
  return hn.sdkVersion ? { ...catalog, dfcVersion: hn.sdkVersion } : catalog;
}
