/**
 * Where a model encodes: `cpu` (onnxruntime's CPU provider on --threads cores) or `webgpu` (onnxruntime-node's WebGPU
 * execution provider, Dawn over Vulkan, Metal or D3D12). What must hold: a device that cannot run is found out before
 * any long work — `probeDevice` opens a one-node session on it — and is a ModelError (exit 4) saying why, never a
 * silent fall back to the CPU.
 */
import { ModelError } from '../errors.js';
import { log } from '../log.js';

/** The devices, in --help order; the first is the default. */
export const DEVICES = ['cpu', 'webgpu'] as const;
export type Device = (typeof DEVICES)[number];

/** The onnxruntime execution providers of a device (nodes a provider lacks run on the CPU, as onnxruntime does). */
export function executionProviders(device: Device): string[] {
  return [device];
}

const probed = new Map<Device, Promise<void>>();

/**
 * Check that `device` can run a model here: a one-node graph is loaded and run on it (once per process).
 * @throws ModelError when it cannot (no WebGPU adapter, no driver)
 */
export function probeDevice(device: Device): Promise<void> {
  if (device === 'cpu') return Promise.resolve();
  let probe = probed.get(device);
  if (!probe) {
    probe = (async () => {
      // Loaded here, not with the module: every command imports this one, and the graph writer's protobufjs costs
      // ~60 ms of each start.
      const { OnnxGraphBuilder } = await import('../onnx/graph-builder.js');
      const graph = new OnnxGraphBuilder('rare-mine-device-probe');
      const x = graph.input('x', 'float32', [1, 4]);
      graph.output(graph.op('Relu', [x]), 'float32', [1, 4]);
      const started = performance.now();
      try {
        // Loaded here, not with the module: --help and commands without a model never load onnxruntime.
        const { InferenceSession, Tensor } = await import('onnxruntime-node');
        const session = await InferenceSession.create(graph.serialize(), { executionProviders: executionProviders(device), logSeverityLevel: 3 });
        await session.run({ x: new Tensor('float32', Float32Array.from([-1, 2, -3, 4]), [1, 4]) });
        await session.release();
      } catch (cause) {
        const reason = (cause as Error).message.split('\n').map((line) => line.trim()).filter(Boolean).pop() ?? String(cause);
        throw new ModelError(`--device ${device}: onnxruntime cannot run a model on it here: ${reason}`, {
          cause,
          hint: 'WebGPU needs a GPU with a Vulkan (Linux), Metal (macOS) or D3D12 (Windows) driver that Dawn accepts; encode on the CPU (--device cpu), or encode elsewhere and pass the vectors (--corpus-vectors, --query-vectors)',
        });
      }
      log().debug({ device, ms: Math.round(performance.now() - started) }, 'device ready');
    })();
    probed.set(device, probe);
  }
  return probe;
}
