import {
  renderMachineConfig,
  type MachineConfigInput,
  type RenderedMachineConfigV113,
} from "../../components/talos/machineConfig";

/** A node's documents at contract 1.13, typed (for fixtures whose Talos release is a 1.13 one). */
export const render113 = (input: MachineConfigInput): RenderedMachineConfigV113 =>
  renderMachineConfig(input) as RenderedMachineConfigV113;
