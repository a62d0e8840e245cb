"use client";
import { useState } from "react";
import { CPU, parseDevice, type DeviceRequest } from "@cellar/protocol";
import { useFleetGpuModels } from "./fleet-models";

export interface DevicePickerProps {
  /** undefined: the default (`defaultLabel`). */
  value: DeviceRequest | undefined;
  onChange(device: DeviceRequest | undefined): void;
  defaultLabel: string;
  /** Offer "CPU" apart from the default (a cell may stay on CPU whatever the notebook says). */
  offerCpu: boolean;
  /** Test ids: `${testId}-select`, `-count`, `-model`, `-error`. */
  testId: string;
  label: string;
  disabled?: boolean;
  title?: string;
}

const DEFAULT = "default";
const OTHER = "other";

function optionOf(device: DeviceRequest | undefined): string {
  if (!device) return DEFAULT;
  if (device.kind === "cpu") return "cpu";
  return device.model ? `model:${device.model}` : "gpu";
}

/** "Default", "CPU", "any GPU", the fleet's GPU models, or a model typed in; with a count for a GPU. */
export function DevicePicker({ value, onChange, defaultLabel, offerCpu, testId, label, disabled, title }: DevicePickerProps) {
  const fleet = useFleetGpuModels();
  const [typing, setTyping] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const current = optionOf(value);
  const models = value?.kind === "gpu" && value.model && !fleet.includes(value.model) ? [...fleet, value.model] : fleet;
  const count = value?.kind === "gpu" ? value.count : 1;

  const choose = (option: string) => {
    setError(null);
    if (option === OTHER) return setTyping("");
    setTyping(null);
    if (option === DEFAULT) return onChange(undefined);
    if (option === "cpu") return onChange(CPU);
    const model = option.startsWith("model:") ? option.slice("model:".length) : undefined;
    onChange(model ? { kind: "gpu", model, count } : { kind: "gpu", count });
  };
  const typed = (text: string) => {
    const parsed = parseDevice(text);
    if (!parsed.ok) return setError(parsed.error);
    setError(null);
    setTyping(null);
    onChange(parsed.device);
  };
  const setCount = (n: number) => {
    if (value?.kind !== "gpu" || !Number.isInteger(n) || n < 1 || n > 16) return;
    onChange({ ...value, count: n });
  };

  return (
    <span className="device-picker" data-testid={testId} title={title}>
      <select
        aria-label={label}
        data-testid={`${testId}-select`}
        value={typing !== null ? OTHER : current}
        disabled={disabled}
        onChange={(e) => choose(e.target.value)}
      >
        <option value={DEFAULT}>{defaultLabel}</option>
        {offerCpu && <option value="cpu">CPU</option>}
        <option value="gpu">any GPU</option>
        {models.map((m) => (
          <option key={m} value={`model:${m}`}>
            {m}
          </option>
        ))}
        <option value={OTHER}>Other GPU model…</option>
      </select>
      {typing !== null && (
        <input
          className="device-picker-model"
          data-testid={`${testId}-model`}
          aria-label="GPU model (e.g. H100, or 2 x H100)"
          placeholder="H100"
          autoFocus
          value={typing}
          onChange={(e) => setTyping(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") typed(typing);
            if (e.key === "Escape") {
              setTyping(null);
              setError(null);
            }
          }}
        />
      )}
      {value?.kind === "gpu" && typing === null && (
        <input
          className="device-picker-count"
          data-testid={`${testId}-count`}
          type="number"
          min={1}
          max={16}
          aria-label="How many GPUs"
          title="How many GPUs"
          value={count}
          disabled={disabled}
          onChange={(e) => setCount(Number(e.target.value))}
        />
      )}
      {error && (
        <span className="device-picker-error" data-testid={`${testId}-error`} role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
