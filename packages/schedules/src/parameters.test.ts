import { describe, expect, it } from "vitest";
import { ParameterError, parseParameterValue } from "./parameters";

describe("parseParameterValue, papermill's -p", () => {
  it.each([
    ["0.5", 0.5],
    ["42", 42],
    ["-7", -7],
    ["+3", 3],
    ["1_000", 1000],
    ["1e3", 1000],
    ["-2.5E-3", -0.0025],
    [".5", 0.5],
    ["5.", 5],
    ["True", true],
    ["true", true],
    ["False", false],
    ["false", false],
    ["None", null],
    ["null", null],
    ["[1, 2, 3]", [1, 2, 3]],
    ['{"a": [1, "x"], "b": null}', { a: [1, "x"], b: null }],
    ['"0.5"', "0.5"],
    ['"True"', "True"],
    ["hello", "hello"],
    ["hello world", "hello world"],
    ["", ""],
    ["2026-12-04", "2026-12-04"],
    ["TRUE", "TRUE"],
    ["none", "none"],
    ["0x10", "0x10"],
    ['"unclosed', '"unclosed'],
  ])("reads %j as %j", (text, value) => {
    expect(parseParameterValue(text)).toEqual(value);
  });

  it("reads a number with spaces around it as the number, but keeps a text's spaces", () => {
    expect(parseParameterValue(" 5 ")).toBe(5);
    expect(parseParameterValue("  two words ")).toBe("  two words ");
  });

  it.each([
    ["nan", "nan cannot be kept as JSON (no NaN or infinity); to pass it as text, quote it as JSON: '\"nan\"'"],
    ["-inf", "-inf cannot be kept as JSON (no NaN or infinity); to pass it as text, quote it as JSON: '\"-inf\"'"],
    ["1e999", "1e999 is too large a number; to pass it as text, quote it as JSON: '\"1e999\"'"],
    [
      "12345678901234567890",
      "12345678901234567890 is too large an integer to keep exactly; to pass it as text, quote it as JSON: '\"12345678901234567890\"'",
    ],
  ])("refuses %j, which JSON cannot hold", (text, message) => {
    expect(() => parseParameterValue(text)).toThrow(new ParameterError(message));
  });

  it("refuses a list or object that is not valid JSON, saying how to pass it as text", () => {
    expect(() => parseParameterValue("[Weekly] sales")).toThrow(ParameterError);
    expect(() => parseParameterValue("[Weekly] sales")).toThrow(
      /^\[Weekly\] sales is not valid JSON \(.+\); to pass it as text, quote it as JSON: '"\[Weekly\] sales"'$/,
    );
    expect(() => parseParameterValue("{a: 1}")).toThrow(/is not valid JSON/);
  });
});
