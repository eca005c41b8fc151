// ESLint flat config: the console's browser modules (layers/static/console/).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/**", ".venv/**", ".onemap/**"] },
  js.configs.recommended,
  {
    files: ["layers/static/console/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser },
    },
    rules: {
      "no-unused-vars": "error",
      "no-eval": "error",
      "no-implied-eval": "error",
      "prefer-const": "error",
      eqeqeq: "error",
    },
  },
];
